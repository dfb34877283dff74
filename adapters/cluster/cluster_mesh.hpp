#pragma once

// The cluster link (docs/cluster.md, "The mesh"): nodes talk to each other
// over CAF's middleman (BASP over TCP), a full mesh with no indirect
// routes. Each node publishes one actor on `cluster.port` — its
// `cluster_node_actor`, the only thing a peer can reach — and its
// `cluster_mesh` connects to every live peer the database lists, monitors
// it and reconnects with backoff. CAF liveness guides routing; ownership
// comes only from the database (the shard leases).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/notification.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_command.hpp"
#include "actors/reply.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class logger;
class metrics_registry;

/// What a node publishes on `cluster.port` for its peers, and nothing else:
/// - `(hello, name, incarnation, node) -> (name, incarnation)`: a peer that
///   connected says who it is and where its node actor is; the answer says
///   who this node is.
/// - `(forward, command, order_id) -> reply`: a command (`cancel`,
///   `confirm`) for an order whose shard this node holds; `not_owner` when
///   it does not (the caller refreshes its map and tries once more).
/// - `(publish, events)`: events the peer committed, for this node's
///   WebSocket subscribers.
using cluster_node_actor = caf::typed_actor<
  caf::replies_to<atom::hello, std::string, int64_t,
                  caf::strong_actor_ptr>::with<std::string, int64_t>,
  caf::replies_to<atom::forward, order_command, std::string>::with<reply>,
  caf::reacts_to<atom::publish, std::vector<published_event>>>;

/// The mesh for callers on this node:
/// - `(publish, events)`: from the hub — handed to every connected peer;
/// - `(forward, command, order_id, reply_ptr)`: from the routes — to the
///   node that holds the order's shard; `not_owner` (503) when none can be
///   reached;
/// - `(hello, name, incarnation, peer)`: from the node actor — a peer
///   connected to this node.
using cluster_mesh_actor = caf::typed_actor<
  caf::reacts_to<atom::publish, std::vector<published_event>>,
  caf::reacts_to<atom::forward, order_command, std::string, reply_ptr>,
  caf::reacts_to<atom::hello, std::string, int64_t, caf::strong_actor_ptr>>;

/// Runs a command for an order of a shard this node holds (the routes'
/// own path, node/routes/orders.cpp); answers `not_owner` otherwise.
using local_command = std::function<void(
  order_command command, const std::string& order_id, reply_ptr out)>;

/// Each peer's link as the mesh sees it, for GET /v1/cluster. Thread-safe.
class cluster_links {
public:
  struct link {
    /// connected | connecting | unreachable | waiting (for the peer, whose
    /// name sorts first, to connect: one side of each pair dials)
    std::string state;
    std::string address;
    std::string since; ///< RFC 3339 UTC of the last change
    uint32_t failed_attempts = 0;
  };

  void set(const std::string& name, link l);
  void erase(const std::string& name);
  std::map<std::string, link> snapshot() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, link> links_;
};

struct cluster_mesh_options {
  std::string node;
  int64_t incarnation = 0;
  /// This node's published actor (spawn_cluster_node), named in hellos.
  caf::strong_actor_ptr node_actor;
  uint32_t shards = 256;
  /// Dial through CAF's openssl module (the link is TLS).
  bool tls = false;
  /// host:port of nodes to dial before the database lists them.
  std::vector<std::string> seeds;
  /// How often the map (members, shard owners) is read.
  std::chrono::milliseconds refresh{1000};
  /// A heartbeat older than this: not a member (cluster.lease_ms).
  std::chrono::milliseconds lease{3000};
  std::chrono::milliseconds connect_timeout{2000};
  /// A forwarded command's answer (the saga answers cancel and confirm at
  /// once; this is the bound for a node that stopped answering).
  std::chrono::milliseconds forward_timeout{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{5000};
};

/// Spawns the mesh (a supervised child; needs the middleman loaded).
caf::actor spawn_cluster_mesh(caf::local_actor* parent,
                              cluster_mesh_options options, db_pool_handle db,
                              std::shared_ptr<cluster_links> links,
                              const logger* log, metrics_registry* metrics);

/// Spawns the node actor that `publish_cluster_node` puts on the port. Not
/// supervised: the port maps to this one actor for the process's life (it
/// keeps no state worth a restart; it only hands messages on).
cluster_node_actor spawn_cluster_node(caf::actor_system& sys, std::string node,
                                      int64_t incarnation,
                                      child_handle<cluster_mesh_actor> mesh,
                                      child_handle<notification_hub_actor> hub,
                                      local_command run);

/// Publishes `node` on `bind`:`port` (blocking: call before serving), with
/// `tls` through CAF's openssl module. Returns an empty string or why not.
std::string publish_cluster_node(caf::actor_system& sys,
                                 const cluster_node_actor& node,
                                 const std::string& bind, uint16_t port,
                                 bool tls);

} // namespace kassa
