#include "node/cluster.hpp"

#include <algorithm>
#include <chrono>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/shard_leases.hpp"
#include "node/config.hpp"
#include "runtime/log.hpp"
#include "runtime/shards.hpp"

namespace kassa {

std::string cluster_address(const node_config& config) {
  if (config.cluster.port == 0)
    return {};
  if (!config.cluster.advertise.empty())
    return config.cluster.advertise;
  return config.cluster.bind + ":" + std::to_string(config.cluster.port);
}

std::string join_cluster(const node_config& config, const std::string& node_id,
                         const std::string& http_address, const logger& log,
                         std::shared_ptr<shard_ownership>& out) {
  pg::connection conn;
  if (auto err = pg::connection::open(config.database.url,
                                      config.database.connect_timeout_s, conn))
    return "database unreachable: " + err->message;
  auto shards = static_cast<uint32_t>(config.cluster.shards);
  std::chrono::milliseconds lease{config.cluster.lease_ms};
  pg::node_address self{node_id, http_address, cluster_address(config)};
  pg::lease_standing standing;
  auto sent_at = std::chrono::steady_clock::now();
  if (auto why = pg::join_cluster(conn, self, shards, lease, standing))
    return "cannot join the cluster: " + *why;
  // The first fair share at once (a single node: every shard); the
  // keeper's rounds balance from there.
  auto share = fair_share(shards, standing.live_nodes);
  auto held = static_cast<uint32_t>(standing.held.size());
  if (held < share) {
    std::vector<shard_lease> taken;
    if (auto why = pg::take_shards(conn, node_id, standing.incarnation, lease,
                                   share - held, taken))
      return "cannot take shards: " + *why;
    standing.held.insert(standing.held.end(), taken.begin(), taken.end());
  }
  out
    = std::make_shared<shard_ownership>(node_id, standing.incarnation, shards);
  out->confirm(standing.fence, standing.held);
  out->valid_until(sent_at + lease
                   - std::chrono::milliseconds{config.cluster.renew_ms});
  log.info("cluster", "joined",
           {{"node_id", node_id},
            {"incarnation", std::to_string(standing.incarnation)},
            {"shards", std::to_string(out->current()->held)},
            {"of", std::to_string(shards)},
            {"live_nodes", std::to_string(standing.live_nodes)}});
  return {};
}

void leave_cluster(const node_config& config, const shard_ownership& self,
                   const logger& log) {
  pg::connection conn;
  if (auto err = pg::connection::open(
        config.database.url, config.database.connect_timeout_s, conn)) {
    log.warn("cluster",
             "cannot leave: the database is away; the leases "
             "expire instead",
             {{"error", err->message}});
    return;
  }
  if (auto why = pg::leave_cluster(conn, self.node(), self.incarnation())) {
    log.warn("cluster", "cannot leave; the leases expire instead",
             {{"error", *why}});
    return;
  }
  log.info("cluster", "left: every shard given back",
           {{"node_id", self.node()}});
}

} // namespace kassa
