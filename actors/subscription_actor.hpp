#pragma once

// Internal to the subscription actor's translation units (subscription.cpp:
// the actor, its journal and its commands; subscription_billing.cpp: the
// billing steps): its state and the helpers both use. Includes CAF's actor
// headers — not for use elsewhere.

#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/subscription.hpp"

namespace kassa::subscription_detail {

using json = nlohmann::json;

/// A job's task or a command, run one at a time in arrival order.
struct subscription_task {
  bool is_command = false;
  uint64_t period = 0;
  uint32_t attempt = 0;
  caf::typed_response_promise<bool> done;
  subscription_command command;
  reply_ptr out;
};

struct subscription_actor_state {
  static inline const char* name = "subscription";
  std::string id;
  subscription_deps deps;
  subscription_state logic;
  int32_t seq = 0;
  bool loaded = false;
  std::deque<subscription_task> tasks;
  bool busy = false;
  /// The call in flight (its message id) and what to do with its answer.
  std::string expected;
  std::function<void(const provider_result&)> on_answer;
  uint64_t calls = 0;
  /// Invoices this incarnation knows were never sent: it journaled their
  /// intent itself, or a lookup found nothing. Any other invoice journaled
  /// without its number may exist at the provider (an earlier incarnation,
  /// or an answer lost): it is looked up before it is issued again.
  std::set<std::string> unsent_invoices;
  /// The data of `subscription.created` while the journal is not opened:
  /// it goes first into the first append.
  json unopened;
};

using subscription_impl
  = subscription_actor::extend<caf::reacts_to<atom::timeout, std::string>>;
using sub_actor = subscription_impl::stateful_base<subscription_actor_state>;

billing_time now_of(const sub_actor* self);
int64_t seconds_of(billing_time t);

/// Starts the next task unless one runs (or asks to leave when none waits).
void pump(sub_actor* self);

/// Runs the billing task at the front one step further.
void drive(sub_actor* self);

/// Runs the command at the front.
void run_command(sub_actor* self);

/// Ends the task at the front: its job is answered (true, or the error —
/// the job runs again later).
void finish_task(sub_actor* self, caf::error err = {});
void fail_task(sub_actor* self, const std::string& why);

/// Journals `events` (type, data) in one append: each entry's data carries
/// the subscription, and its status after the entry (`status` in `data`
/// when the entry changes it). Applied once committed; then `then`.
void journal(sub_actor* self, std::vector<std::pair<std::string, json>> events,
             std::function<void()> then);

/// Sends `call` to `target`; `handle` gets the answer (or a timeout as
/// an `unknown` outcome).
void call(sub_actor* self, const child_handle<provider_actor>& target,
          provider_call call,
          std::function<void(const provider_result&)> handle);

/// Schedules the task (period, attempt) after `delay`; then `then`. `tag`
/// tells apart the settling tasks (attempt 0) of one period: a cancel's, a
/// plan change's.
void schedule(sub_actor* self, uint64_t period, uint32_t attempt,
              std::chrono::seconds delay, std::function<void()> then,
              const std::string& tag = {});

/// The job of the period after `period`, due when `period` ends.
void schedule_next_period(sub_actor* self, uint64_t period,
                          std::function<void()> then);

} // namespace kassa::subscription_detail
