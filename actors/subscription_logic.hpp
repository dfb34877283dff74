#pragma once

// A subscription's state as plain code (issue 22): folded from its journal,
// and what its actor should do next for a billing task — tested without an
// actor or a database. The actor (actors/subscription.cpp) journals what
// this decides before it sends anything, so a restart replays to the same
// place and a repeated call carries the same idempotency key.
//
// Periods: period 0 begins at the anchor (the start, or the trial's end)
// and each is billed in advance at its start: an invoice (the invoicing
// provider) and a charge of the stored payment method (the payment
// provider), each under a key of (subscription, period[, attempt]). A
// declined charge is tried again on the dunning schedule; the subscription
// is `past_due` meanwhile and `canceled` or `unpaid` after the last.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/billing_calendar.hpp"
#include "actors/journal.hpp"
#include "actors/plan.hpp"

namespace kassa {

enum class subscription_status : uint8_t {
  trialing,
  active,
  past_due,
  paused,
  canceled,
  unpaid,
};

std::string_view to_string(subscription_status s);
std::optional<subscription_status> parse_subscription_status(std::string_view);

/// Whether `id` names a subscription (its journal's stream): `sub_…`.
inline bool is_subscription_id(std::string_view id) {
  return id.substr(0, 4) == "sub_";
}

/// What a subscription was made with (its `subscription.created` entry).
struct subscription_terms {
  std::string id;
  std::string customer;
  std::string email;
  plan terms; ///< the plan's version at the time (id, version, amounts)
  std::string token;
  std::string processor = "sandbox"; ///< payment provider
  std::string invoicing = "sandbox"; ///< invoicing provider
  billing_time created;
  billing_time anchor; ///< where period 0 begins (after the trial)
};

/// One try of a period's charge.
struct charge_attempt {
  uint32_t number = 1;
  enum status_t : uint8_t { running, paid, failed } status = running;
  std::string ref;
  std::string error;
  billing_time at;
  std::optional<billing_time> next_at; ///< failed: when the next try runs
};

/// One period's invoice and what became of it.
struct period_invoice {
  uint64_t period = 0;
  std::string id; ///< `<subscription>.<period>`
  int64_t amount_minor = 0;
  int64_t setup_fee_minor = 0; ///< of amount_minor (period 0 only)
  billing_time start;
  billing_time end;
  std::string invoice_ref; ///< the invoicing provider's number
  std::vector<charge_attempt> attempts;
  /// Dunning gave up on it.
  bool uncollectible = false;
  /// A prorated refund asked for (0: none) and its outcome.
  int64_t refund_minor = 0;
  std::string refund_ref;

  bool paid() const {
    return !attempts.empty() && attempts.back().status == charge_attempt::paid;
  }
  /// Dunning still runs for it: its last try failed and another is due.
  bool in_dunning() const;
  const charge_attempt* attempt(uint32_t number) const;
  std::string charge_ref() const;
};

/// A move to another plan (version): now, with the prorated difference of
/// the period paid for charged first (an upgrade), or when the next period
/// opens (a cheaper plan, or asked so).
struct plan_change {
  std::string id; ///< `<subscription>.<period>-<plan>-v<version>`
  uint64_t period = 0;
  plan to;
  bool at_period_end = false;
  bool applied = false;
  bool failed = false; ///< its proration charge was refused
  /// The proration's invoice (amount 0: nothing to charge).
  period_invoice invoice;

  bool pending() const {
    return !applied && !failed;
  }
};

/// What the node's configuration says about dunning.
struct dunning_policy {
  dunning_schedule schedule;
  /// After the last failed try: `canceled` (default) or `unpaid`.
  subscription_status after = subscription_status::canceled;
};

/// What a subscription's actor does next for the task (period, attempt):
/// attempt 1 opens and bills the period, a higher one is a dunning retry,
/// 0 only settles what is owed (refunds, notices).
struct billing_action {
  enum kind_t : uint8_t {
    done,          ///< nothing (left) to do for the task
    skip_period,   ///< paused or unpaid: the period is not billed
    cancel_at_end, ///< a cancel at period end takes effect
    open_invoice,  ///< journal the period's invoice (and schedule the next)
    issue_invoice, ///< ask the invoicing provider (look it up first?)
    start_charge,  ///< journal the charge attempt
    charge,        ///< charge attempt `attempt` (its key: the period's)
    refund,        ///< the prorated refund of `period`
    notify,        ///< tell the customer `about`
    apply_change,  ///< the plan change `change` takes effect
  } kind = done;
  uint64_t period = 0;
  uint32_t attempt = 0;
  std::string about; ///< notify: "paid:3", "payment_failed:3:2", ...
  /// Not empty: the action is about this plan change's invoice (issue,
  /// start_charge, charge) or the change itself (apply_change).
  std::string change;
};

/// Why a command is refused (code "" = it is not).
struct subscription_refusal {
  std::string code; ///< reply code: invalid_state, invalid_field
  std::string message;
};

class subscription_state {
public:
  /// Applies one journal entry (unknown types are skipped: a newer node's).
  void apply(const journal_entry& e);

  bool created() const {
    return created_;
  }
  const subscription_terms& terms() const {
    return terms_;
  }
  subscription_status status() const {
    return status_;
  }
  const std::map<uint64_t, period_invoice>& invoices() const {
    return invoices_;
  }
  const std::set<uint64_t>& skipped() const {
    return skipped_;
  }
  bool cancel_at_period_end() const {
    return cancel_at_period_end_;
  }
  std::optional<billing_time> canceled_at() const {
    return canceled_at_;
  }
  const std::string& token() const {
    return token_;
  }
  /// The period holding `now` (period 0 before the anchor).
  billing_period period_at(billing_time now) const;
  billing_cycle cycle() const;
  /// Whether the customer was told `about`.
  bool notified(const std::string& about) const {
    return notified_.contains(about);
  }

  /// The next step of task (period, attempt); `now` is the node's clock.
  billing_action next(uint64_t period, uint32_t attempt,
                      billing_time now) const;

  /// The entry that opens `period` (`invoice.created`).
  nlohmann::json open_invoice_data(uint64_t period) const;

  /// The status after a charge of `period` succeeded.
  subscription_status status_after_paid(uint64_t period) const;
  /// The status after attempt `number` of `period` failed; `next_at` (the
  /// dunning schedule's next try, or none) is set.
  subscription_status
  status_after_failure(uint64_t period, uint32_t number,
                       const dunning_policy& policy, billing_time now,
                       std::optional<billing_time>& next_at) const;

  /// Commands: why they cannot be done now, or "" (and what to journal is
  /// the actor's: one entry each).
  subscription_refusal can_pause() const;
  subscription_refusal can_resume() const;
  subscription_refusal can_cancel() const;
  /// The status a resume returns to.
  subscription_status status_after_resume(billing_time now) const;
  /// The prorated refund of a cancel at `now`: the period's invoice holding
  /// `now` and what its unused part is worth (0: nothing to refund).
  std::pair<uint64_t, int64_t> prorated_refund(billing_time now) const;

  /// A move to `to` asked at `now` (`at_period_end` as asked): why not, or
  /// the change to journal (`plan_change_requested`) in `out` — nullopt
  /// when it changes nothing (already on it, or the same change pending).
  subscription_refusal plan_change_for(const plan& to, bool at_period_end,
                                       billing_time now,
                                       std::optional<plan_change>& out) const;
  const std::vector<plan_change>& plan_changes() const {
    return changes_;
  }
  const plan_change* change(const std::string& id) const;

private:
  bool created_ = false;
  subscription_terms terms_;
  subscription_status status_ = subscription_status::active;
  std::string token_;
  std::map<uint64_t, period_invoice> invoices_;
  std::set<uint64_t> skipped_;
  std::set<std::string> notified_;
  bool cancel_at_period_end_ = false;
  std::optional<billing_time> canceled_at_;
  std::vector<plan_change> changes_;

  plan_change* change_of(const nlohmann::json& data);
  period_invoice* invoice_of(const nlohmann::json& data, uint64_t period);
};

/// The journal data of `change` (`subscription.plan_change_requested`).
nlohmann::json to_json(const plan_change& change);
nlohmann::json to_json(const plan& p);
plan plan_from_json(const nlohmann::json& data);

/// The terms of `subscription.created`'s data, or why they are unreadable.
std::optional<subscription_terms>
subscription_terms_from_json(const nlohmann::json& data, std::string& error);
nlohmann::json to_json(const subscription_terms& t);

/// The subscription as GET /v1/subscriptions/{id} shows it.
nlohmann::json subscription_view(const subscription_state& s, billing_time now);

/// The id of `period`'s invoice: `<subscription>.<period>`.
std::string invoice_id(const std::string& subscription, uint64_t period);

} // namespace kassa
