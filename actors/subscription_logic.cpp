#include "actors/subscription_logic.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "actors/subscription_fields.hpp"
#include "runtime/clock.hpp"

namespace kassa {

using json = nlohmann::json;

namespace {

constexpr std::array<std::string_view, 6> status_names{
  "trialing", "active", "past_due", "paused", "canceled", "unpaid"};

} // namespace

using namespace subscription_fields;

std::string_view to_string(subscription_status s) {
  return status_names[static_cast<size_t>(s)];
}

std::optional<subscription_status>
parse_subscription_status(std::string_view name) {
  for (size_t i = 0; i < status_names.size(); ++i)
    if (status_names[i] == name)
      return static_cast<subscription_status>(i);
  return std::nullopt;
}

std::string invoice_id(const std::string& subscription, uint64_t period) {
  return subscription + "." + std::to_string(period);
}

const charge_attempt* period_invoice::attempt(uint32_t number) const {
  if (number == 0 || number > attempts.size())
    return nullptr;
  return &attempts[number - 1];
}

bool period_invoice::in_dunning() const {
  return !paid() && !uncollectible && !attempts.empty()
         && attempts.back().status == charge_attempt::failed
         && attempts.back().next_at.has_value();
}

std::string period_invoice::charge_ref() const {
  return paid() ? attempts.back().ref : std::string{};
}

void subscription_state::apply(const journal_entry& e) {
  auto data = json::parse(e.data, nullptr, false);
  if (!data.is_object())
    return;
  if (auto s = parse_subscription_status(text_of(data, "status")))
    status_ = *s;
  auto& type = e.type;
  auto period = static_cast<uint64_t>(integer_of(data, "period"));
  auto number = static_cast<uint32_t>(integer_of(data, "attempt"));
  if (type == "subscription.created") {
    std::string error;
    if (auto t = subscription_terms_from_json(data, error)) {
      terms_ = std::move(*t);
      token_ = terms_.token;
      created_ = true;
    }
  } else if (type == "invoice.created") {
    period_invoice inv;
    inv.period = period;
    inv.id = text_of(data, "invoice");
    inv.amount_minor = integer_of(data, "amount_minor");
    inv.setup_fee_minor = integer_of(data, "setup_fee_minor");
    inv.start = seconds_of(data, "start_s");
    inv.end = seconds_of(data, "end_s");
    invoices_[period] = std::move(inv);
  } else if (type == "invoice.issued") {
    if (auto* inv = invoice_of(data, period))
      inv->invoice_ref = text_of(data, "ref");
  } else if (type == "invoice.payment_started") {
    if (auto* inv = invoice_of(data, period)) {
      charge_attempt a;
      a.number = number;
      a.at = seconds_of(data, "at_s");
      inv->attempts.push_back(std::move(a));
    }
  } else if (type == "invoice.paid" || type == "invoice.payment_failed") {
    auto* inv = invoice_of(data, period);
    if (!inv || inv->attempts.empty() || inv->attempts.back().number != number)
      return;
    auto& a = inv->attempts.back();
    if (type == "invoice.paid") {
      a.status = charge_attempt::paid;
      a.ref = text_of(data, "ref");
    } else {
      a.status = charge_attempt::failed;
      a.error = text_of(data, "error");
      a.at = seconds_of(data, "at_s");
      if (data.contains("next_s") && data["next_s"].is_number_integer())
        a.next_at = seconds_of(data, "next_s");
      else
        inv->uncollectible = true;
      if (auto* c = change_of(data))
        c->failed = true; // a proration is not dunned: the change is off
    }
  } else if (type == "subscription.plan_change_requested") {
    plan_change c;
    c.id = text_of(data, "change");
    c.period = period;
    if (data.contains("plan") && data["plan"].is_object())
      c.to = plan_from_json(data["plan"]);
    c.at_period_end = data.value("at_period_end", false);
    c.invoice.id = text_of(data, "invoice");
    c.invoice.period = period;
    c.invoice.amount_minor = integer_of(data, "amount_minor");
    c.invoice.start = seconds_of(data, "start_s");
    c.invoice.end = seconds_of(data, "end_s");
    changes_.push_back(std::move(c));
  } else if (type == "subscription.plan_changed") {
    if (auto* c = change_of(data)) {
      c->applied = true;
      terms_.terms = c->to;
    }
  } else if (type == "invoice.refund_requested") {
    if (auto i = invoices_.find(period); i != invoices_.end())
      i->second.refund_minor = integer_of(data, "amount_minor");
  } else if (type == "invoice.refunded") {
    if (auto i = invoices_.find(period); i != invoices_.end())
      i->second.refund_ref = text_of(data, "ref");
  } else if (type == "subscription.period_skipped") {
    skipped_.insert(period);
  } else if (type == "subscription.cancel_scheduled") {
    cancel_at_period_end_ = true;
  } else if (type == "subscription.canceled") {
    canceled_at_ = seconds_of(data, "at_s");
    cancel_at_period_end_ = false;
  } else if (type == "subscription.payment_method_updated") {
    token_ = text_of(data, "token");
  } else if (type == "customer.notified") {
    notified_.insert(text_of(data, "about"));
  }
}

plan_change* subscription_state::change_of(const json& data) {
  auto id = text_of(data, "change");
  if (id.empty())
    return nullptr;
  for (auto& c : changes_)
    if (c.id == id)
      return &c;
  return nullptr;
}

period_invoice* subscription_state::invoice_of(const json& data,
                                               uint64_t period) {
  if (data.contains("change"))
    if (auto* c = change_of(data))
      return &c->invoice;
  auto i = invoices_.find(period);
  return i == invoices_.end() ? nullptr : &i->second;
}

const plan_change* subscription_state::change(const std::string& id) const {
  for (auto& c : changes_)
    if (c.id == id)
      return &c;
  return nullptr;
}

subscription_refusal
subscription_state::plan_change_for(const plan& to, bool at_period_end,
                                    billing_time now,
                                    std::optional<plan_change>& out) const {
  out.reset();
  if (status_ != subscription_status::active
      && status_ != subscription_status::trialing)
    return {"invalid_state", "only an active or trialing subscription changes "
                             "plan; it is "
                               + std::string{to_string(status_)}};
  auto& now_on = terms_.terms;
  if (to.currency != now_on.currency || to.interval != now_on.interval
      || to.interval_count != now_on.interval_count)
    return {"invalid_field", "plan " + to.id
                               + " bills in another currency or "
                                 "rhythm: a change keeps both (a new "
                                 "subscription does not)"};
  if (to.id == now_on.id && to.version == now_on.version)
    return {}; // on it already
  for (auto& c : changes_)
    if (c.pending()) {
      if (c.to.id == to.id && c.to.version == to.version)
        return {}; // asked again
      return {"invalid_state", "a change to plan " + c.to.id + " is under way"};
    }
  plan_change c;
  c.to = to;
  bool trial = now < terms_.anchor;
  auto p = period_at(now);
  c.period = trial ? 0 : p.index;
  // A cheaper plan takes over when the period paid for ends; in a trial
  // there is nothing paid to prorate: at once.
  c.at_period_end
    = !trial && (at_period_end || to.amount_minor < now_on.amount_minor);
  c.id = invoice_id(terms_.id, c.period) + "-" + to.id + "-v"
         + std::to_string(to.version);
  c.invoice.id = c.id;
  c.invoice.period = c.period;
  if (!trial && !c.at_period_end) {
    auto i = invoices_.find(p.index);
    if (i == invoices_.end() || !i->second.paid())
      return {"invalid_state", "the current period is not paid yet: change "
                               "the plan once it is, or at its end"};
    // What the rest of the period is worth on the new plan, less what it
    // is worth on the one paid for.
    c.invoice.amount_minor
      = prorate(to.amount_minor, p.start, p.end, now)
        - prorate(now_on.amount_minor, p.start, p.end, now);
    c.invoice.start = p.start;
    c.invoice.end = p.end;
  }
  out = std::move(c);
  return {};
}

billing_cycle subscription_state::cycle() const {
  return billing_cycle{parse_billing_interval(terms_.terms.interval)
                         .value_or(billing_interval::month),
                       std::max<uint32_t>(terms_.terms.interval_count, 1)};
}

billing_period subscription_state::period_at(billing_time now) const {
  return kassa::period_at(terms_.anchor, cycle(), now);
}

billing_action subscription_state::next(uint64_t period, uint32_t attempt,
                                        billing_time) const {
  using A = billing_action;
  if (!created_)
    return {};
  // What is owed first: a refund asked for and not made.
  for (auto& [k, inv] : invoices_)
    if (inv.refund_minor > 0 && inv.refund_ref.empty() && inv.paid())
      return {A::refund, k, 0, {}};
  if (status_ == subscription_status::canceled && !notified("canceled"))
    return {A::notify, period, attempt, "canceled"};
  // A change asked for now: its proration charged, then it takes effect.
  for (auto& c : changes_) {
    if (!c.pending() || c.at_period_end
        || status_ == subscription_status::canceled)
      continue;
    auto& inv = c.invoice;
    if (inv.amount_minor <= 0 || inv.paid())
      return {A::apply_change, c.period, 0, {}, c.id};
    if (!inv.attempts.empty()
        && inv.attempts.back().status == charge_attempt::running)
      return {A::charge, c.period, inv.attempts.back().number, {}, c.id};
    if (inv.invoice_ref.empty())
      return {A::issue_invoice, c.period, 0, {}, c.id};
    if (inv.attempts.empty())
      return {A::start_charge, c.period, 1, {}, c.id};
  }
  if (attempt == 0)
    return {};
  auto i = invoices_.find(period);
  if (i == invoices_.end()) {
    if (attempt != 1 || skipped_.contains(period)
        || status_ == subscription_status::canceled)
      return {};
    if (cancel_at_period_end_)
      return {A::cancel_at_end, period, attempt, {}};
    // A change left for the period's end takes effect as the next opens.
    for (auto& c : changes_)
      if (c.pending() && c.at_period_end && period > c.period)
        return {A::apply_change, period, attempt, {}, c.id};
    if (status_ == subscription_status::paused
        || status_ == subscription_status::unpaid)
      return {A::skip_period, period, attempt, {}};
    return {A::open_invoice, period, attempt, {}};
  }
  auto& inv = i->second;
  // A charge under way (journaled, no answer: a restart) is asked again
  // under its key, whichever task finds it.
  if (!inv.attempts.empty()
      && inv.attempts.back().status == charge_attempt::running)
    return {A::charge, period, inv.attempts.back().number, {}};
  if (inv.paid()) {
    auto about = "paid:" + std::to_string(period);
    if (!notified(about))
      return {A::notify, period, attempt, about};
    return {};
  }
  if (status_ == subscription_status::canceled)
    return {};
  if (inv.invoice_ref.empty())
    return {A::issue_invoice, period, attempt, {}};
  auto tries = static_cast<uint32_t>(inv.attempts.size());
  if (attempt <= tries) {
    auto& a = inv.attempts[attempt - 1];
    auto about = "payment_failed:" + std::to_string(period) + ":"
                 + std::to_string(attempt);
    if (a.status == charge_attempt::failed && !notified(about))
      return {A::notify, period, attempt, about};
    return {};
  }
  // The next try, when it is the one due: the first, or the one the last
  // failure scheduled. A paused subscription's retries wait for nothing:
  // the period is not collected while paused.
  if (attempt != tries + 1 || inv.uncollectible
      || status_ == subscription_status::paused
      || (tries > 0 && !inv.attempts.back().next_at))
    return {};
  return {A::start_charge, period, attempt, {}};
}

json subscription_state::open_invoice_data(uint64_t period) const {
  auto start = period_start(terms_.anchor, cycle(), period);
  auto end = period_start(terms_.anchor, cycle(), period + 1);
  auto fee = period == 0 ? terms_.terms.setup_fee_minor : 0;
  return {
    {"invoice", invoice_id(terms_.id, period)},
    {"period", period},
    {"amount_minor", terms_.terms.amount_minor + fee},
    {"setup_fee_minor", fee},
    {"currency", terms_.terms.currency},
    {"period_start", rfc3339(start)},
    {"period_end", rfc3339(end)},
    {"start_s", start.time_since_epoch().count()},
    {"end_s", end.time_since_epoch().count()},
  };
}

subscription_status
subscription_state::status_after_paid(uint64_t period) const {
  if (status_ == subscription_status::paused
      || status_ == subscription_status::canceled)
    return status_;
  for (auto& [k, inv] : invoices_)
    if (k != period && inv.in_dunning())
      return subscription_status::past_due;
  return subscription_status::active;
}

subscription_status subscription_state::status_after_failure(
  uint64_t period, uint32_t number, const dunning_policy& policy,
  billing_time now, std::optional<billing_time>& next_at) const {
  next_at.reset();
  auto i = invoices_.find(period);
  // The schedule counts from the first failure of this invoice.
  auto first = now;
  if (i != invoices_.end() && !i->second.attempts.empty()
      && i->second.attempts.front().status == charge_attempt::failed)
    first = i->second.attempts.front().at;
  next_at = next_attempt(policy.schedule, first, number);
  if (next_at && *next_at < now)
    next_at = now; // late (the node was down): right away
  if (status_ == subscription_status::paused
      || status_ == subscription_status::canceled)
    return status_;
  return next_at ? subscription_status::past_due : policy.after;
}

subscription_refusal subscription_state::can_pause() const {
  if (status_ == subscription_status::active
      || status_ == subscription_status::trialing
      || status_ == subscription_status::past_due)
    return {};
  return {"invalid_state", "only an active, trialing or past_due "
                           "subscription can be paused; it is "
                             + std::string{to_string(status_)}};
}

subscription_refusal subscription_state::can_resume() const {
  if (status_ == subscription_status::paused)
    return {};
  return {"invalid_state", "only a paused subscription can be resumed; it is "
                             + std::string{to_string(status_)}};
}

subscription_refusal subscription_state::can_cancel() const {
  if (status_ != subscription_status::canceled)
    return {};
  return {"invalid_state", "the subscription is canceled already"};
}

subscription_status
subscription_state::status_after_resume(billing_time now) const {
  if (now < terms_.anchor && invoices_.empty())
    return subscription_status::trialing;
  for (auto& [k, inv] : invoices_)
    if (inv.in_dunning())
      return subscription_status::past_due;
  return subscription_status::active;
}

std::pair<uint64_t, int64_t>
subscription_state::prorated_refund(billing_time now) const {
  auto p = period_at(now);
  auto i = invoices_.find(p.index);
  if (now < terms_.anchor || i == invoices_.end() || !i->second.paid()
      || i->second.refund_minor > 0)
    return {p.index, 0};
  auto& inv = i->second;
  return {p.index, prorate(inv.amount_minor - inv.setup_fee_minor, inv.start,
                           inv.end, now)};
}

} // namespace kassa
