#pragma once

// One subscription's actor (issue 22): it lives while it has work — a
// billing period to open, a dunning retry, a customer's command — and
// leaves (passivates) when idle, so an idle subscription costs the node
// nothing but its rows. Durable jobs wake it (kind `subscription`, one per
// period and per retry, due on the node's clock); each job's run asks it
// `(run, period, attempt)` and is done once it answers true — a run that
// fails (a provider down, the node gone) runs again, and the actor picks up
// where its journal says it was, under the same idempotency keys.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/journal.hpp"
#include "actors/order_saga.hpp" // saga_targets: what performs the calls
#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"
#include "actors/subscription_command.hpp"
#include "actors/subscription_logic.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

class database_health;
class logger;
class node_clock;

/// Where subscriptions are stored (adapters/postgres/subscription_store).
class subscription_store {
public:
  virtual ~subscription_store() = default;
  /// Sends `(atom::loaded, std::string terms_json,
  /// std::vector<journal_entry>)` to `reply_to` — the terms the row was made
  /// with (the data of its `subscription.created`) and its journal — or an
  /// error (`subscription_not_found` as errc::unknown_child's text).
  virtual void load(std::string id, caf::actor reply_to) = 0;
};

/// The actor's protocol:
/// - `(run, period, attempt) -> bool`: a job's task — attempt 1 opens and
///   bills period `period`, a higher one tries its charge again (dunning),
///   0 settles what is owed (a refund, a notice) and nothing else; true once
///   the task is done (or there was nothing to do);
/// - `(update, subscription_command, reply_ptr)`: pause, resume, cancel,
///   a new payment method;
/// and what its store and providers answer, and the supervisor's leave.
using subscription_actor = caf::typed_actor<
  caf::reacts_to<atom::loaded, std::string, std::vector<journal_entry>>,
  caf::reacts_to<caf::error>, caf::reacts_to<provider_result>,
  caf::replies_to<atom::run, uint64_t, uint32_t>::with<bool>,
  caf::reacts_to<atom::update, subscription_command, reply_ptr>,
  caf::reacts_to<atom::passivate>>;

struct subscription_deps {
  child_handle<journal_actor> journal;
  saga_targets targets;
  child_handle<scheduler_actor> scheduler;
  /// The `subscriptions` supervisor: where the actor asks to leave.
  child_handle<supervisor_actor> supervisor;
  std::shared_ptr<subscription_store> store;
  std::shared_ptr<const node_clock> clock;
  dunning_policy dunning;
  /// A provider call without an answer after this long: the task fails
  /// (its job runs again, the call under the same key).
  std::chrono::milliseconds call_timeout{10000};
  const logger* log = nullptr;
};

/// The child spec of subscription `id` for the `subscriptions` supervisor.
child_spec subscription_spec(std::string id, subscription_deps deps);

/// The supervisor of the node's subscription actors (at most `max_active`
/// at work at once; a database outage pauses them).
caf::actor
spawn_subscription_supervisor(caf::local_actor* parent, size_t max_active,
                              std::shared_ptr<const database_health> database,
                              const logger* log, metrics_registry* metrics);

/// How routes reach subscriptions: the `subscriptions` supervisor, and the
/// child spec of a subscription (it is started for a command unless it
/// runs).
struct subscription_directory {
  child_handle<supervisor_actor> supervisor;
  std::shared_ptr<const std::function<child_spec(std::string)>> starter;
};

/// The job kind that wakes subscriptions.
inline constexpr const char* subscription_job_kind = "subscription";

/// The job of task (period, attempt) of subscription `id`, due after
/// `delay_ms`: its key names the task (and `tag`, what a settling task is
/// for), so a task is scheduled once.
job_spec subscription_job(const std::string& id, uint64_t period,
                          uint32_t attempt, int64_t delay_ms,
                          const std::string& tag = {});

/// Runs `subscription` jobs for the scheduler: `(atom::run, job) -> bool`,
/// true once the subscription answered its task true. `supervisor`: the
/// slot of the `subscriptions` supervisor; `make_spec` its child spec.
caf::actor
spawn_subscription_jobs(caf::local_actor* parent,
                        std::shared_ptr<const child_slot> supervisor,
                        std::function<child_spec(std::string)> make_spec);

} // namespace kassa
