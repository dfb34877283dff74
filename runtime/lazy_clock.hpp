#pragma once

// CAF's clock (caf::detail::thread_safe_actor_clock) hands every timer
// operation to its thread through a queue whose push wakes that thread: a
// timer set, a timeout cancelled, and — unconditionally, in
// local_actor::cleanup — every actor's exit. With one short-lived saga per
// order that is a futex wake-up and a context switch or two per order (~2.6 %
// of the node's samples in the saga benchmark). `lazy_actor_clock` applies
// the operations under a mutex instead and wakes its thread only when the
// earliest due time moves earlier; cancellations never wake it, and an
// actor without timers costs its exit a lock and a lookup.
//
// `use_lazy_clock(cfg, policy)` installs CAF's own scheduler (work stealing
// or sharing, as `scheduler.policy` says) with this clock in place of
// CAF's: a scheduler module in `cfg.module_factories`, which
// caf::actor_system takes instead of building the default one.

#include <string_view>

#include <caf/fwd.hpp>

namespace kassa {

/// `policy`: "stealing" (CAF's default) or "sharing".
void use_lazy_clock(caf::actor_system_config& cfg, std::string_view policy);

/// How many timers and delayed messages `sys`'s lazy clock holds; -1 when
/// `sys` runs another clock. (For tests.)
long lazy_clock_pending(caf::actor_system& sys);

} // namespace kassa
