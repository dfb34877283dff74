#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "runtime/backoff.hpp"

namespace kassa {

class logger;
class metrics_registry;

/// How a supervisor restarts its children.
struct supervisor_options {
  std::string name = "root";
  /// More than this many restarts of one child within `window` escalates:
  /// the supervisor exits with `errc::restart_limit_exceeded`, which its own
  /// parent sees as a crash of its child.
  uint32_t max_restarts = 5;
  millis window{60000};
  /// Delay before restart n is min(backoff_initial * 2^n, backoff_max).
  millis backoff_initial{100};
  millis backoff_max{10000};
  /// false: a child over budget is dropped (logged) instead of escalating —
  /// for supervisors of many independent children such as sagas.
  bool escalate = true;
  /// At most this many children run at once (0 = no limit); a child added
  /// beyond it waits, its messages held, until a running one finishes or
  /// reports itself idle with `(atom::idle, name, true)` — backpressure for
  /// supervisors of many children such as sagas.
  size_t max_running = 0;
  /// Pausing, for children that wait out an outage of something they all
  /// need (sagas and the database): a child whose exit reason makes
  /// `pause_on` true is neither restarted nor charged against its budget;
  /// it waits, its messages held, until `resumable()`, and then restarts —
  /// at most `resume_batch` every `resume_tick`, so thousands of paused
  /// children do not all reload at once. While `resumable()` is false no
  /// waiting child starts either. Logged once per episode (paused, resumed
  /// with the count); gauge `kassa_supervisor_paused{supervisor}`. Unset:
  /// never pause.
  std::function<bool(const caf::error& reason)> pause_on = {};
  std::function<bool()> resumable = {};
  size_t resume_batch = 200;
  millis resume_tick{50};
};

/// Starts one child. Called once at start and again after every crash; the
/// supervisor links itself to what it returns.
using child_factory = std::function<caf::actor(caf::local_actor* parent)>;

class child_slot;

struct child_spec {
  std::string name;
  child_factory start;
  /// Optional: where the supervisor publishes each incarnation of the child
  /// (and clears it while the child is down), so callers holding a
  /// `child_handle` to it send directly (runtime/child_handle.hpp).
  std::shared_ptr<child_slot> slot = {};
};

/// Spawns a supervisor over `children` (more can be added with
/// `(atom::add, child_spec)`). Its protocol, dynamically typed because a
/// child may be any actor:
/// - `(atom::get, std::string name) -> caf::actor`: the child's current
///   handle (error `child_restarting` while it is down, `unknown_child`).
/// - `(atom::get, std::vector<std::string> names) -> std::vector<std::string>`:
///   those of `names` it does not supervise (any more).
/// - `(atom::add, child_spec) -> caf::actor`: starts and supervises another.
/// - `(atom::add, std::vector<child_spec>)`: the same for several, no answer.
/// - `(atom::restart, std::vector<child_spec>) -> std::vector<std::string>`:
///   supervises those of them it does not (any more: a child dropped past
///   its restart budget, or one never added) and answers their names — how
///   a sweeper drives again what nobody drives.
/// - `(atom::tell, std::string name, caf::message)`: delivers the message to
///   the child's current incarnation; held while the child is restarting, so
///   callers need no handle that a restart would make stale.
/// - `(atom::tell, child_spec, caf::message)`: supervises the child first
///   unless it does already, then delivers — in one message, so the child
///   cannot exit between the two (an `add` and a `tell` could see it
///   finish in between, and the message would find no child).
/// - `(atom::ask, std::string name, caf::message) -> <the child's answer>`:
///   the same as a request; the child answers the original requester.
/// - `(atom::ask, child_spec, caf::message) -> <the child's answer>`:
///   supervises the child first unless it does already, then asks it.
/// - `(atom::names) -> std::vector<std::string>`: every child it supervises.
/// - `(atom::stop, std::vector<std::string> names)`: stops those children
///   for good (exit reason `user_shutdown`, no restart); messages held for
///   them are dropped. How the sagas of a shard this node lost stop.
/// - `(atom::idle, std::string name, bool idle)`: the child waits for the
///   outside world (true) and gives its running slot back, or works again
///   (false).
/// - `(atom::passivate, std::string name, bool leave)`: the child (leave =
///   true) is done and asks to exit: messages for it are held from now on
///   and it is answered `(atom::passivate)` — after everything delivered to
///   it before, so it exits only if none of that gave it work; if it did, it
///   stays (leave = false) and the held messages follow. A child that exits
///   normally while messages are held for it is started again for them
///   (nothing sent to a finishing child is lost).
/// A child that exits normally is removed; an exit `pause_on` accepts pauses
/// it (see supervisor_options); any other exit (an exception, an error) is
/// a crash and triggers a restart after the backoff delay.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_options options,
                            std::vector<child_spec> children, const logger* log,
                            metrics_registry* metrics);

} // namespace kassa
