#pragma once

// The node's place in the cluster at start and stop (docs/cluster.md): it
// joins (a new incarnation of its name, the shards of its previous process
// and its first fair share taken) before its actors start, so sagas and the
// intake find their shards from the first message; it leaves (every shard
// given back) after its actors stopped, so the others need not wait for its
// leases to expire. In between, the lease keeper (adapters/postgres/
// lease_keeper.hpp) keeps the leases.

#include <memory>
#include <string>

namespace kassa {

class logger;
class shard_ownership;
struct node_config;

/// host:port the other nodes dial ("" without cluster.port).
std::string cluster_address(const node_config& config);

/// Joins; `out` is the node's ownership, confirmed. Returns an empty string
/// or the one-line reason the node cannot start.
std::string join_cluster(const node_config& config, const std::string& node_id,
                         const std::string& http_address, const logger& log,
                         std::shared_ptr<shard_ownership>& out);

/// Leaves (blocking; logged and skipped when the database is away: the
/// leases then expire).
void leave_cluster(const node_config& config, const shard_ownership& self,
                   const logger& log);

} // namespace kassa
