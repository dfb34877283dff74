#pragma once

// The cluster's tables (migration 0015; docs/cluster.md): nodes, shard
// leases with epochs, and the record of every take. Blocking calls on a
// connection of the caller's (the lease keeper's own, or the node's start).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "runtime/shards.hpp"

namespace kassa::pg {

class connection;

/// Who a node is to the others.
struct node_address {
  std::string name;
  std::string http;    ///< host:port of its HTTP API
  std::string cluster; ///< host:port of its middleman ("" = none)
};

/// A node's standing as its last statement found it.
struct lease_standing {
  int64_t incarnation = 0;
  int64_t fence = 0;
  std::vector<shard_lease> held;
  /// Nodes with a fresh heartbeat that did not leave, this one included.
  uint32_t live_nodes = 1;
  /// False: another process took this node's name (a newer incarnation).
  bool current = true;
};

/// Creates the cluster if it is new (`shards` leases, all free), or checks
/// that it was created with `shards`; then registers `self` under a new
/// incarnation. The leases its name held (a previous process of this node:
/// the name is one process at a time) are its again at once, each at the
/// next epoch, and the fence moves on so the previous process, should it
/// still run, writes nothing more. Answers why not, or nullopt.
std::optional<std::string>
join_cluster(connection& conn, const node_address& self, uint32_t shards,
             std::chrono::milliseconds lease, lease_standing& out);

/// Heartbeat and renewal in one statement: the node's leases expire
/// `lease` from now on the database's clock. Fills `out` with what the
/// node holds now and its fence (which moved if a shard was taken over).
std::optional<std::string>
renew_leases(connection& conn, const std::string& name, int64_t incarnation,
             std::chrono::milliseconds lease, lease_standing& out);

/// Takes at most `limit` shards that are free or whose lease expired (free
/// ones first, then at random), each at its next epoch; the fence of each
/// previous owner moves on (docs/cluster.md), and each take is recorded in
/// `shard_takes` with the event log's last seq. `taken`: what it took.
std::optional<std::string>
take_shards(connection& conn, const std::string& name, int64_t incarnation,
            std::chrono::milliseconds lease, uint32_t limit,
            std::vector<shard_lease>& taken);

/// Gives `shards` back (free, epoch kept: the next owner takes epoch + 1)
/// and moves the node's own fence on, so a write of this node still on its
/// way cannot land after the handoff. `fence`: the node's new fence.
std::optional<std::string>
release_shards(connection& conn, const std::string& name, int64_t incarnation,
               const std::vector<int32_t>& shards, int64_t& fence);

/// Leaves the cluster: every shard given back, the node marked stopped (the
/// others need not wait for its leases to expire).
std::optional<std::string>
leave_cluster(connection& conn, const std::string& name, int64_t incarnation);

/// Who routes where (adapters/cluster): the nodes alive now (fresh
/// heartbeat, not stopped) with their middleman addresses, and the owner of
/// each shard whose lease runs ("" = free or expired).
struct cluster_map {
  struct member {
    std::string name;
    int64_t incarnation = 0;
    std::string cluster; ///< host:port of its middleman ("" = none)

    friend bool operator==(const member&, const member&) = default;
  };
  std::vector<member> members;
  std::vector<std::string> owners; ///< by shard

  friend bool operator==(const cluster_map&, const cluster_map&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_map::member& x) {
  return f(caf::meta::type_name("kassa::pg::cluster_map::member"), x.name,
           x.incarnation, x.cluster);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_map& x) {
  return f(caf::meta::type_name("kassa::pg::cluster_map"), x.members, x.owners);
}

/// Reads the cluster map (one round trip).
std::optional<std::string> read_cluster_map(connection& conn,
                                            std::chrono::milliseconds lease,
                                            cluster_map& out);

/// GET /v1/cluster's body: the shard count, every node (state alive,
/// unreachable or stopped; address; incarnation; shards) and every lease
/// (owner, epoch, ms until it expires).
std::optional<std::string> read_cluster(connection& conn,
                                        std::chrono::milliseconds lease,
                                        std::string& json_out);

} // namespace kassa::pg
