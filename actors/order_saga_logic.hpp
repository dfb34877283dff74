#pragma once

// The order saga as plain code: a table of steps (action + compensation) and
// a state rebuilt from journaled events. The actor (order_saga.cpp) only
// moves messages; everything decided here is unit-tested without actors.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/order_line.hpp"

namespace kassa {

// -- the step table -----------------------------------------------------------

enum class saga_step : uint8_t {
  reserve_stock,
  create_invoice,
  charge_payment,
  capture_payment, ///< manual capture only: waits for the shop's capture
  create_shipment,
  commit_stock,
  notify_customer,
};

constexpr size_t saga_step_count = 7;

/// One row of the table: what the step does, what undoes it, and whether its
/// permanent failure cancels the order (notify_customer's does not).
struct saga_step_def {
  saga_step step;
  std::string_view name;
  std::string_view compensation; ///< Empty: nothing to undo.
  bool failure_cancels;
};

const std::array<saga_step_def, saga_step_count>& saga_steps();

std::string_view to_string(saga_step s);
std::optional<saga_step> parse_saga_step(std::string_view name);

// -- events -------------------------------------------------------------------

/// What is journaled. `step` is meaningful for step and compensation events.
enum class saga_event_type : uint8_t {
  created,
  step_started,
  step_succeeded,
  step_failed,
  compensation_started,
  compensation_succeeded,
  compensation_failed,
  cancel_requested,
  waiting,
  parked, ///< the provider's circuit is open: a durable job resumes the step
  completed,
  cancelled,
  failed,
  capture_requested, ///< the shop captures an authorization (manual capture)
  refund_requested,  ///< a refund of a completed order (`refund_id`)
  refund_started,
  refund_succeeded,
  refund_failed,
  dispute_opened, ///< a processor's dispute notices (`dispute`)
  dispute_updated,
  dispute_funds_withdrawn,
  dispute_funds_reinstated,
  dispute_won,
  dispute_lost,
  credit_note_started, ///< the credit note of a succeeded refund
  credit_note_issued,
  credit_note_failed,
  /// The charge moves to the order's next processor (`ref`): the one it
  /// was sent to is out and holds nothing of it.
  payment_rerouted,
  /// A capture the processor had acknowledged (`ref`) failed after all
  /// (its webhook said so): no money was taken by it.
  capture_failed,
  /// An operator had a `failed` order's compensations tried again (their
  /// cause fixed): the order is compensating again, with another
  /// `max_comp_attempts` for each undo.
  compensation_retried,
  /// An operator marked a `failed` order resolved (`reason`: the note,
  /// `key`: who); it stays `failed`.
  resolved,
};

std::string_view to_string(saga_event_type t);
std::optional<saga_event_type> parse_saga_event_type(std::string_view name);

/// A dispute of the order's payment as the processor last described it.
struct dispute_state {
  std::string id;
  std::string processor;
  std::string payment_ref;
  /// `needs_response`, `under_review`, `won` or `lost`.
  std::string status = "needs_response";
  int64_t amount_minor = 0;
  std::string currency;
  std::string reason;
  std::string due_by;
  int64_t withdrawn_minor = 0;  ///< funds the processor took back
  int64_t reinstated_minor = 0; ///< funds it gave back (a won dispute)
  std::string message_id;       ///< the notice that led here

  bool closed() const {
    return status == "won" || status == "lost";
  }
  friend bool operator==(const dispute_state&, const dispute_state&) = default;
};

struct saga_event {
  saga_event_type type = saga_event_type::created;
  saga_step step = saga_step::reserve_stock;
  uint32_t attempt = 0;
  bool permanent = false; ///< step_failed / compensation_failed
  /// step_failed: no clear answer, or one naming a payment (Adyen's
  /// `Pending`) — something may exist at the processor.
  bool maybe_exists = false;
  std::string ref;   ///< provider reference of a success
  std::string error; ///< text of a failure
  /// capture_requested: the amount to capture (0: all that was authorized);
  /// refund_requested: the amount to refund.
  int64_t amount_minor = 0;
  std::string refund_id; ///< refund_* events
  std::string key;       ///< refund_requested: the request's Idempotency-Key
  std::string reason;    ///< refund_requested
  /// refund_requested by lines: what is given back.
  std::vector<order_line> lines;
  /// dispute_*: the dispute after the notice (each event holds all of it,
  /// so a reader needs only the last one). Behind a pointer: every event of
  /// every order carries the member, few are disputes.
  std::shared_ptr<const dispute_state> dispute;
  /// capture_requested: the last capture of the authorization (the rest is
  /// released); false: more captures may follow.
  bool final_capture = true;
  /// waiting: the processor decides later (its webhook settles the step),
  /// not the customer.
  bool pending = false;
};

// -- state --------------------------------------------------------------------

enum class saga_status : uint8_t {
  pending,
  running,
  waiting,
  completed,
  compensating,
  cancelled,
  failed,
  /// Manual capture: authorized; the saga goes on when the shop captures
  /// (or compensates on a void, a cancel or the authorization's expiry).
  awaiting_capture,
  /// Completed, and a refund asked for is not done yet (a live status, so
  /// a restart finishes it); back to `completed` after.
  refunding,
};

std::string_view to_string(saga_status s);
bool is_terminal(saga_status s);

enum class step_status : uint8_t {
  pending,
  running,
  done,
  failed,
  compensating,
  compensated,
  skipped,
};

std::string_view to_string(step_status s);

struct step_state {
  step_status status = step_status::pending;
  uint32_t attempts = 0;      ///< forward attempts started
  uint32_t comp_attempts = 0; ///< compensation attempts started
  uint32_t parks = 0;         ///< forward attempts refused by an open circuit
  uint32_t comp_parks = 0;    ///< compensation attempts refused likewise
  std::string ref;
  std::string error;
  bool last_failure_transient = false;
};

/// One refund of a completed order.
struct refund_state {
  enum class status_t : uint8_t { pending, running, succeeded, failed };
  std::string id;
  int64_t amount_minor = 0;
  std::string key;
  std::string reason;
  std::vector<order_line> lines; ///< empty: a refund of an amount
  status_t status = status_t::pending;
  uint32_t attempts = 0;
  std::string ref;
  std::string error;
  /// The credit note the invoicing provider issues once the refund
  /// succeeded (an order without an invoice has none).
  enum class note_t : uint8_t { none, pending, running, issued, failed };
  note_t credit_note = note_t::none;
  uint32_t note_attempts = 0;
  std::string note_ref;
  std::string note_error;
};

std::string_view to_string(refund_state::note_t s);

/// One capture of a manual-capture order's authorization. The first one,
/// and another after each that was not final (`"final": false`): each runs
/// as the capture_payment step again, under a key of its own.
struct capture_state {
  enum class status_t : uint8_t { pending, running, succeeded, failed };
  /// 0 (a journal from before several captures): all that was authorized.
  int64_t amount_minor = 0;
  bool final = true;
  std::string key; ///< the request's Idempotency-Key ("" when none)
  status_t status = status_t::pending;
  std::string ref;
  std::string error; ///< why it failed (the processor's later word)
};

std::string_view to_string(capture_state::status_t s);

std::string_view to_string(refund_state::status_t s);

/// Retry policy of the saga (the provider issue makes it richer).
struct saga_retry_policy {
  uint32_t max_attempts = 5;      ///< forward attempts before giving up
  uint32_t max_comp_attempts = 8; ///< compensation attempts before `failed`
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{2000};
};

/// What the actor should do next.
struct saga_decision {
  enum kind_t : uint8_t {
    run_step,          ///< journal step_started, then call the step's action
    run_compensation,  ///< journal compensation_started, then undo `step`
    finish_completed,  ///< journal completed
    finish_cancelled,  ///< journal cancelled
    finish_failed,     ///< journal failed (a compensation could not finish)
    run_refund,        ///< journal refund_started, then call `refund`
    run_credit_note,   ///< journal credit_note_started, then issue it
    idle,              ///< terminal, or waiting for an outside event
  } kind = idle;
  saga_step step = saga_step::reserve_stock;
  uint32_t attempt = 0;
  /// run_refund, run_credit_note: the index of the refund in `refunds()`.
  size_t refund = 0;
  /// For a retry: wait this long first (the actor remembers that it waited
  /// for this step and attempt, and then runs it).
  std::chrono::milliseconds delay{0};
};

class saga_state {
public:
  explicit saga_state(saga_retry_policy policy = {},
                      bool manual_capture = false)
    : policy_(policy), manual_capture_(manual_capture) {}

  /// Folds one event in; replaying a journal is applying each in order.
  void apply(const saga_event& e);

  /// The next thing to do, given everything applied so far.
  saga_decision next() const;

  /// `waiting` while parked on an open circuit (API.md);
  /// `awaiting_capture` while an authorization waits for the shop.
  saga_status status() const {
    if (parked_)
      return saga_status::waiting;
    if (status_ == saga_status::completed && refund_open())
      return saga_status::refunding;
    return awaiting_capture() ? saga_status::awaiting_capture : status_;
  }
  /// The refunds asked for, in order.
  const std::vector<refund_state>& refunds() const {
    return refunds_;
  }
  /// A refund asked for and not finished.
  bool refund_open() const;
  /// The disputes of the payment, in the order they were opened.
  const std::vector<dispute_state>& disputes() const {
    return disputes_;
  }
  /// Whether the dispute notice `message_id` was journaled already.
  bool knows_dispute_message(const std::string& message_id) const;
  /// What was captured (0 before the capture, or when compensated).
  int64_t captured_minor(int64_t total_minor) const;
  /// What the captures that succeeded took, refunded or not.
  int64_t capture_sum(int64_t total_minor) const;
  /// The captures asked for, in order (manual capture).
  const std::vector<capture_state>& captures() const {
    return captures_;
  }
  /// The amount of the last capture asked for (its 0 resolved: the rest).
  int64_t capture_round_amount(int64_t total_minor) const;
  /// A final capture succeeded: nothing of the authorization is left.
  bool capture_closed() const;
  /// What refunds took or are taking (failed ones do not count).
  int64_t refunded_minor() const;
  /// Units of `sku` that refunds by line gave or are giving back (failed
  /// ones do not count).
  int64_t refunded_quantity(const std::string& sku) const;
  /// The order authorizes at checkout and captures on the shop's command
  /// (`"capture":"manual"`); otherwise `capture_payment` is not a step of it.
  bool manual_capture() const {
    return manual_capture_;
  }
  /// Authorized, not captured in full (a capture that was not final may
  /// have succeeded), no capture under way and nothing else asked of it.
  bool awaiting_capture() const;
  /// Whether `step` is one of this order's steps.
  bool has_step(saga_step s) const {
    return s != saga_step::capture_payment || manual_capture_;
  }
  /// Parked: a provider's circuit was open; a job resumes it.
  bool parked() const {
    return parked_;
  }
  saga_step parked_step() const {
    return parked_step_;
  }
  bool parked_compensation() const {
    return parked_compensation_;
  }
  /// What to run when a parked saga is resumed (no delay): the parked step
  /// or compensation again, or — cancelled meanwhile — the compensation.
  std::optional<saga_decision> resume_parked() const;
  const step_state& step(saga_step s) const {
    return steps_[static_cast<size_t>(s)];
  }
  bool cancel_requested() const {
    return cancel_requested_;
  }
  /// A `failed` order's resolution by an operator, if any.
  struct resolution {
    std::string note;
    std::string by;
  };
  const std::optional<resolution>& resolved() const {
    return resolution_;
  }
  /// The processor that holds (or is to hold) the payment: empty = the
  /// order's first; set when the charge was rerouted.
  const std::string& payment_processor() const {
    return processor_;
  }
  /// The charge waits for the processor's decision (not the customer's).
  bool charge_pending() const {
    return charge_pending_;
  }
  /// The processor's id of a charge that waited (3-D Secure, pending) and
  /// never succeeded: what a reversal undoes ("" when none was named).
  const std::string& held_charge_ref() const {
    return held_ref_;
  }
  /// The charge's compensation is a reversal: it never succeeded, yet the
  /// processor may complete it (it was left waiting under `held_charge_ref`).
  bool charge_reversal() const {
    return reverse_charge_;
  }
  /// The charge may move to another processor: not done, and nothing at
  /// the current one may exist (no unknown outcome, no pending payment, no
  /// 3-D Secure under way) — an unknown outcome is resolved with the same
  /// processor first.
  bool may_reroute() const;
  /// True while a step's action or a compensation has started and not ended:
  /// on resume it must run again (idempotently).
  bool in_flight() const;

private:
  bool compensating() const {
    return status_ == saga_status::compensating;
  }

  saga_retry_policy policy_;
  saga_status status_ = saga_status::pending;
  std::array<step_state, saga_step_count> steps_{};
  bool cancel_requested_ = false;
  /// Times an operator had the compensations tried again.
  uint32_t comp_retries_ = 0;
  std::optional<resolution> resolution_;
  bool manual_capture_ = false;
  std::vector<capture_state> captures_;
  std::vector<refund_state> refunds_;
  std::vector<dispute_state> disputes_;
  std::vector<std::string> dispute_messages_;
  std::string processor_;
  bool charge_held_ = false; ///< see may_reroute
  bool charge_pending_ = false;
  std::string held_ref_;
  bool reverse_charge_ = false;
  bool parked_ = false;
  saga_step parked_step_ = saga_step::reserve_stock;
  bool parked_compensation_ = false;
};

} // namespace kassa
