#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/saga_placement.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class database_health;
class logger;
class metrics_registry;
class shard_ownership;

struct lease_keeper_options {
  std::string url;
  int connect_timeout_s = 5;
  std::shared_ptr<database_health> health;
  /// A lease lasts this long past its last renewal (database clock).
  std::chrono::milliseconds lease{3000};
  /// Renewal, heartbeat and takeover round every this long.
  std::chrono::milliseconds renew{1000};
  /// How long the number of live nodes must stay the same before this node
  /// gives shards back to balance the cluster.
  std::chrono::milliseconds settle{3000};
  /// At most this many shards taken, and given back, per round.
  uint32_t per_round = 32;
};

/// Keeps this node's shard leases (docs/cluster.md), every `renew`: renews
/// them with a heartbeat, takes free and expired shards up to a fair share
/// of the live nodes, and once the membership has settled gives back what
/// is above it — in two rounds: first the node stops writing the shard and
/// its sagas stop (`lost` to `listener`), then the lease is released under
/// a new fence of this node's. What it confirms goes to `ownership`, what
/// changes to `listener`. A node whose renewals have not come back for
/// `lease - renew` holds nothing from then on (it fences itself) until a
/// renewal answers again. When another process took this node's name,
/// `superseded` is called once. Runs its statements on a detached worker
/// with its own connection, so a slow database never blocks the timers.
/// Protocol: none from outside (timers and its worker's answers).
caf::actor spawn_lease_keeper(caf::local_actor* parent,
                              lease_keeper_options options,
                              std::shared_ptr<shard_ownership> ownership,
                              child_handle<shard_listener_actor> listener,
                              std::function<void()> superseded,
                              const logger* log, metrics_registry* metrics);

} // namespace kassa
