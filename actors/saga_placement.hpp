#pragma once

#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/order_saga.hpp"

namespace kassa {

/// What the lease keeper tells when the shards this node holds change
/// (docs/cluster.md):
/// - `(atom::acquired, shards)`: taken (at start, a failover, a handoff) —
///   the unfinished sagas there are started from their journals;
/// - `(atom::lost, shards)`: given back, taken over, or fenced — the sagas
///   there stop at once (their next journal write would be refused
///   anyway); whoever holds the shard next resumes them.
using shard_listener_actor
  = caf::typed_actor<caf::reacts_to<atom::acquired, std::vector<int32_t>>,
                     caf::reacts_to<atom::lost, std::vector<int32_t>>>;

/// The sagas' side of shard ownership: starts and stops the sagas of the
/// shards the keeper reports, through the `sagas` supervisor.
shard_listener_actor spawn_saga_placement(caf::local_actor* parent,
                                          order_saga_deps deps);

} // namespace kassa
