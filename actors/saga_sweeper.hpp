#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/order_saga.hpp"

namespace kassa {

/// No saga is left behind: every `interval` the sweeper lists the live
/// sagas in the store (not terminal) and hands them to the root's `sagas`
/// supervisor with `(atom::restart, specs)`, which starts those that no
/// actor drives — dropped past their restart budget, stopped by a bug or a
/// lost message — and names them. Each revival is logged once with how many
/// times that saga was revived, and counted in `kassa_sagas_revived_total`.
/// A saga that exists already is left alone, so a sweep costs one query and
/// one message. A saga revived `max_revivals` times that nobody drives
/// again is given up: marked `failed` with the reason (saga_store::give_up,
/// logged as an error, `kassa_sagas_given_up_total`) rather than left
/// `running` for good — nothing is compensated, a person looks at it.
/// Protocol: none from outside (timers and its own answers).
caf::actor spawn_saga_sweeper(caf::local_actor* parent, order_saga_deps deps,
                              std::chrono::milliseconds interval,
                              uint32_t max_revivals = 3);

} // namespace kassa
