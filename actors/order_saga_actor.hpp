#pragma once

// Internal to the order saga's translation units (order_saga.cpp,
// order_saga_calls.cpp): the actor's state and what its calls to the outside
// need. Includes CAF's actor headers — not for use elsewhere.

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include "actors/order_saga.hpp"
#include "actors/order_saga_records.hpp"

namespace kassa::saga_detail {

struct order_saga_state {
  static inline const char* name = "order_saga";
  std::string id;
  order_saga_deps deps;
  order_data order;
  saga_state logic;
  int32_t seq = 0;
  bool loaded = false;
  bool journaling = false;
  /// Finished, and asked the supervisor to let it exit (`passivate`).
  bool leaving = false;
  bool three_ds_confirmed = false;
  /// What the shopper's return from 3-D Secure carried (JSON text, "" =
  /// nothing): sent with the confirmed charge to processors that need it.
  std::string three_ds_details;
  bool idle = false; ///< reported to the supervisor as waiting
  /// The call in flight: its message id, step, attempt and whether it is a
  /// compensation; empty id = none.
  std::string expected;
  saga_step expected_step = saga_step::reserve_stock;
  uint32_t expected_attempt = 0;
  bool expected_compensation = false;
  /// The call in flight is this refund's (by id), not a step's.
  std::string expected_refund;
  /// ... and its credit note's, not the refund's own.
  bool expected_credit_note = false;
  /// When the call in flight times out. One timer message at a time serves
  /// all of a saga's calls: a timer per call left six pending timers of
  /// `orders.call_timeout_ms` per order in CAF's clock, long after the
  /// answers came.
  caf::actor_clock::time_point call_deadline;
  /// When the journal append in flight is given up on (the saga restarts
  /// and replays): watched by the same timer, so an append costs CAF's clock
  /// nothing (a request timeout was two clock wake-ups per append).
  caf::actor_clock::time_point journal_deadline;
  /// When the earliest pending timer message fires; none pending if empty.
  std::optional<caf::actor_clock::time_point> timer_at;
  /// The retry delay already waited for (kind, step, attempt).
  std::optional<std::tuple<int, saga_step, uint32_t>> waited;
  /// Commands that arrived while a journal write was in flight.
  std::deque<caf::message> deferred;
  /// When the 3-D Secure (or pending) wait and the authorization's wait
  /// for its capture end, on the node's clock.
  std::chrono::system_clock::time_point three_ds_due;
  std::chrono::system_clock::time_point capture_due;
};

/// The saga's protocol and what only it sends itself: timers, its parking
/// job's retry and a step's retry after its delay.
using saga_impl = order_saga_actor::extend<
  caf::reacts_to<atom::timeout, std::string>,
  caf::reacts_to<atom::schedule, int64_t, bool>,
  caf::reacts_to<atom::retry, int, saga_step, uint32_t>>;
using saga_actor = saga_impl::stateful_base<order_saga_state>;

/// Journals `ev` (with `extra` in its row), applies it once committed and
/// runs `then` (order_saga.cpp).
void journal_event(saga_actor* self, saga_event ev, nlohmann::json extra,
                   std::function<void()> then);

/// Journals `events` in one append (one commit), applies them once
/// committed and runs `then` (order_saga.cpp).
void journal_events(saga_actor* self,
                    std::vector<std::pair<saga_event, nlohmann::json>> events,
                    std::function<void()> then);

/// Does what the saga's state says comes next (order_saga.cpp).
void advance_saga(saga_actor* self);

/// The id of the deadline of the current authorization's capture.
std::string capture_timer_id(const order_saga_state& st);

/// An authorization nobody captures is voided after
/// `orders.authorization_ttl_ms` (a full period again after a restart).
void arm_capture_timeout(saga_actor* self);

/// Arms the timer `id` of a wait that ends at `due` on the node's clock,
/// `left` from now: a movable (test) clock is looked at every second, so a
/// wait it moved past ends then. True when `due` has passed.
bool wait_until(saga_actor* self, std::chrono::system_clock::time_point due,
                const std::string& id);
/// The node's clock's now (the machine's without one).
std::chrono::system_clock::time_point node_now(const order_saga_state& st);

/// The capture deadline `timer` passed: voids the order if it still waits.
void on_capture_timeout(saga_actor* self, const std::string& timer);

/// A customer cancels: accepted (compensation follows), or
/// `order_not_cancellable` once shipped or finished.
void on_cancel(saga_actor* self, const reply_ptr& out);

/// An operator's: a `failed` order's compensations tried again (202), or
/// its failure resolved with a note (200; sent again: the first note).
void on_retry_compensation(saga_actor* self, const reply_ptr& out);
void on_resolve(saga_actor* self, const std::string& note,
                const std::string& by, const reply_ptr& out);

/// A refund's id: the same order and key make the same id, so a repeated
/// request finds its refund and a retried call its provider's dedup key.
std::string refund_id(const std::string& order_id, const std::string& key);

/// The customer finished 3-D Secure: the charge runs again, confirmed.
void on_confirm(saga_actor* self, const std::string& details,
                const reply_ptr& out);

/// The shop captures `amount` (0: all that is left) of the authorization.
/// `key`: the request's Idempotency-Key ("" when none; the same key
/// answers the same capture); `final` false keeps the rest authorized for
/// more captures.
void on_capture(saga_actor* self, int64_t amount, const std::string& key,
                bool final, const reply_ptr& out);

/// The shop voids the authorization: the order is compensated.
void on_void(saga_actor* self, const reply_ptr& out);

/// The shop refunds `amount` of a completed order (`key`: the request's
/// Idempotency-Key; the same key answers the same refund again).
/// A refund of `amount`, or of `lines` (their value when `amount` is 0;
/// at most their value otherwise): accepted once journaled, or refused
/// (not completed, more than was captured, a line not ordered or given
/// back already).
void on_refund(saga_actor* self, int64_t amount, const std::string& key,
               const std::string& reason, const std::vector<order_line>& lines,
               const reply_ptr& out);

/// Journals the start of refund `index` at `attempt` and calls the
/// payment provider.
void run_refund(saga_actor* self, size_t index, uint32_t attempt);

/// The payment provider's answer to the refund in flight (or the invoicing
/// provider's to its credit note).
void on_refund_result(saga_actor* self, const provider_result& r);

/// Journals the start of refund `index`'s credit note at `attempt` and asks
/// the invoicing provider for it (a retry looks for it first: Billingo has
/// no idempotency key).
void run_credit_note(saga_actor* self, size_t index, uint32_t attempt);

/// A processor's notice about a dispute of the order's payment: journaled
/// (answered `recorded`), or answered `duplicate` when its message id was
/// journaled before.
void on_dispute(saga_actor* self, const dispute_notice& notice,
                const reply_ptr& out);

/// A processor's word on a charge it left pending (or waiting for the
/// shopper): the waiting charge step succeeds (the notice's payment its
/// ref) or fails for good, journaled with the message id; answered
/// `duplicate` when the charge already names that payment, `not_waiting`
/// when nothing waits for it. Of a capture or refund (`kind`) that failed
/// after the processor acknowledged it: the one naming `ref` is journaled
/// failed (`recorded`; `duplicate` when it is already, `not_found`).
void on_settle(saga_actor* self, const payment_notice& notice,
               const reply_ptr& out);

/// Nothing left to do and nothing waiting: the saga may exit. (A finished
/// saga started for a command — a refund, or one that raced its end —
/// exits once the command is answered: a refused or repeated command leaves
/// no saga behind.)
bool finished(const order_saga_state& st);

/// Exits through the supervisor's handshake (`passivate`): a command it
/// delivered in the meantime is seen first (and keeps the saga), one sent
/// later is held and starts the saga again — none reaches a saga that is
/// gone. Unsupervised (tests): quits at once.
void leave(saga_actor* self);

/// `leave` if `finished` (after every command handler).
void quit_if_finished(saga_actor* self);

/// Whether `d` ends the saga (completed, cancelled or failed).
bool is_finish(const saga_decision& d);
/// The terminal event of a finish decision (counted in the metrics).
saga_event finish_event(saga_actor* self, const saga_decision& d);

/// Tells the saga supervisor whether this saga waits for the outside world
/// (3-D Secure, a parked step): a waiting saga gives its running slot back
/// (orders.max_active_sagas), so waiting orders never block new ones.
void report_idle(saga_actor* self, bool idle);

/// The id of the 3-D Secure deadline of the current charge attempt.
std::string three_ds_timer_id(const order_saga_state& st);

/// A customer who never finishes 3-D Secure must not hold stock forever.
void arm_three_ds_timeout(saga_actor* self);

/// The wait's deadline `timer` passed: a charge still waiting for the
/// customer (or the processor) fails for good and is compensated — and
/// reversed, should the processor have named it.
void on_waiting_timeout(saga_actor* self, const std::string& timer);

/// The id of the saga's call timer message (not a message id: those are
/// `<order>:<step>:<attempt>`).
inline constexpr const char* call_timer_id = "call-timer";

/// How long a journal append may take before the saga gives up on it.
inline constexpr std::chrono::seconds journal_timeout{30};

/// Makes sure a timer message fires within `delay` (one pending earlier
/// serves).
void arm_call_timer(saga_actor* self, caf::timespan delay);

/// Sends the call of `step` (or its compensation) at `attempt` and expects
/// its answer until `orders.call_timeout_ms`.
void send_call(saga_actor* self, saga_step step, uint32_t attempt,
               bool compensation, const std::string& op_override = {});

/// Runs the step: an invoice retried after an unknown outcome is first looked
/// up by order (Billingo has no idempotency key).
void run_step(saga_actor* self, saga_step step, uint32_t attempt);

/// Makes sure a durable job will resume this parked saga: after `delay_ms`
/// (when the open circuit lets probes through), also after a restart. The
/// key names the parked attempt, so scheduling it again (on every load) adds
/// nothing — or, with `revive`, runs a finished job again: the saga is still
/// parked, so that run did not take.
void schedule_resume(saga_actor* self, int64_t delay_ms, bool revive);

} // namespace kassa::saga_detail
