#include "actors/subscription_logic.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "runtime/clock.hpp"

namespace kassa {

using json = nlohmann::json;

namespace {

constexpr std::array<std::string_view, 6> status_names{
  "trialing", "active", "past_due", "paused", "canceled", "unpaid"};

billing_time seconds_of(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number_integer())
    return billing_time{};
  return billing_time{std::chrono::seconds{i->get<int64_t>()}};
}

std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

int64_t integer_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number_integer() ? i->get<int64_t>() : 0;
}

/// Dunning still runs for `inv`: its last try failed and another is due.
bool in_dunning(const period_invoice& inv) {
  return !inv.paid() && !inv.uncollectible && !inv.attempts.empty()
         && inv.attempts.back().status == charge_attempt::failed
         && inv.attempts.back().next_at.has_value();
}

std::string_view invoice_status(const period_invoice& inv) {
  if (inv.paid())
    return "paid";
  if (inv.uncollectible)
    return "uncollectible";
  if (in_dunning(inv))
    return "past_due";
  return "open";
}

} // namespace

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

std::string period_invoice::charge_ref() const {
  return paid() ? attempts.back().ref : std::string{};
}

json to_json(const subscription_terms& t) {
  auto& p = t.terms;
  return {
    {"subscription", t.id},
    {"customer", t.customer},
    {"email", t.email},
    {"plan",
     {{"id", p.id},
      {"version", p.version},
      {"name", p.name},
      {"amount_minor", p.amount_minor},
      {"currency", p.currency},
      {"interval", p.interval},
      {"interval_count", p.interval_count},
      {"trial_days", p.trial_days},
      {"setup_fee_minor", p.setup_fee_minor}}},
    {"token", t.token},
    {"processor", t.processor},
    {"invoicing", t.invoicing},
    {"created_s", t.created.time_since_epoch().count()},
    {"anchor_s", t.anchor.time_since_epoch().count()},
    {"created_at", rfc3339(t.created)},
  };
}

std::optional<subscription_terms>
subscription_terms_from_json(const json& data, std::string& error) {
  if (!data.is_object() || !data.contains("plan")
      || !data["plan"].is_object()) {
    error = "subscription.created without its plan";
    return std::nullopt;
  }
  subscription_terms t;
  t.id = text_of(data, "subscription");
  t.customer = text_of(data, "customer");
  t.email = text_of(data, "email");
  auto& p = data["plan"];
  t.terms.id = text_of(p, "id");
  t.terms.version = static_cast<uint32_t>(integer_of(p, "version"));
  t.terms.name = text_of(p, "name");
  t.terms.amount_minor = integer_of(p, "amount_minor");
  t.terms.currency = text_of(p, "currency");
  t.terms.interval = text_of(p, "interval");
  t.terms.interval_count
    = static_cast<uint32_t>(integer_of(p, "interval_count"));
  t.terms.trial_days = static_cast<uint32_t>(integer_of(p, "trial_days"));
  t.terms.setup_fee_minor = integer_of(p, "setup_fee_minor");
  t.token = text_of(data, "token");
  t.processor = text_of(data, "processor");
  t.invoicing = text_of(data, "invoicing");
  t.created = seconds_of(data, "created_s");
  t.anchor = seconds_of(data, "anchor_s");
  if (t.id.empty() || t.terms.interval_count == 0
      || !parse_billing_interval(t.terms.interval)) {
    error = "subscription.created with unreadable terms";
    return std::nullopt;
  }
  return t;
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
    if (auto i = invoices_.find(period); i != invoices_.end())
      i->second.invoice_ref = text_of(data, "ref");
  } else if (type == "invoice.payment_started") {
    if (auto i = invoices_.find(period); i != invoices_.end()) {
      charge_attempt a;
      a.number = number;
      a.at = seconds_of(data, "at_s");
      i->second.attempts.push_back(std::move(a));
    }
  } else if (type == "invoice.paid" || type == "invoice.payment_failed") {
    auto i = invoices_.find(period);
    if (i == invoices_.end() || i->second.attempts.empty()
        || i->second.attempts.back().number != number)
      return;
    auto& a = i->second.attempts.back();
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
        i->second.uncollectible = true;
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
  if (attempt == 0)
    return {};
  auto i = invoices_.find(period);
  if (i == invoices_.end()) {
    if (attempt != 1 || skipped_.contains(period)
        || status_ == subscription_status::canceled)
      return {};
    if (cancel_at_period_end_)
      return {A::cancel_at_end, period, attempt, {}};
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
    if (k != period && in_dunning(inv))
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
    if (in_dunning(inv))
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

json subscription_view(const subscription_state& s, billing_time now) {
  auto& t = s.terms();
  auto invoices = json::array();
  for (auto& [k, inv] : s.invoices()) {
    auto attempts = json::array();
    for (auto& a : inv.attempts) {
      json one{{"number", a.number},
               {"status", a.status == charge_attempt::paid     ? "paid"
                          : a.status == charge_attempt::failed ? "failed"
                                                               : "running"},
               {"at", rfc3339(a.at)}};
      if (!a.ref.empty())
        one["ref"] = a.ref;
      if (!a.error.empty())
        one["error"] = a.error;
      if (a.next_at)
        one["next_attempt_at"] = rfc3339(*a.next_at);
      attempts.push_back(std::move(one));
    }
    json one{{"id", inv.id},
             {"period", k},
             {"status", invoice_status(inv)},
             {"amount_minor", inv.amount_minor},
             {"currency", t.terms.currency},
             {"period_start", rfc3339(inv.start)},
             {"period_end", rfc3339(inv.end)},
             {"invoice_ref", inv.invoice_ref},
             {"attempts", std::move(attempts)}};
    if (inv.setup_fee_minor > 0)
      one["setup_fee_minor"] = inv.setup_fee_minor;
    if (inv.refund_minor > 0)
      one["refund"]
        = {{"amount_minor", inv.refund_minor},
           {"status", inv.refund_ref.empty() ? "pending" : "succeeded"},
           {"ref", inv.refund_ref}};
    invoices.push_back(std::move(one));
  }
  json out{
    {"id", t.id},
    {"customer", t.customer},
    {"status", to_string(s.status())},
    {"plan",
     {{"id", t.terms.id},
      {"version", t.terms.version},
      {"name", t.terms.name},
      {"amount_minor", t.terms.amount_minor},
      {"currency", t.terms.currency},
      {"interval", t.terms.interval},
      {"interval_count", t.terms.interval_count}}},
    {"payment", {{"processor", t.processor}}},
    {"created_at", rfc3339(t.created)},
    {"cancel_at_period_end", s.cancel_at_period_end()},
    {"invoices", std::move(invoices)},
  };
  if (t.anchor > t.created)
    out["trial_end"] = rfc3339(t.anchor);
  if (now < t.anchor) {
    out["current_period_start"] = rfc3339(t.created);
    out["current_period_end"] = rfc3339(t.anchor);
  } else {
    auto p = s.period_at(now);
    out["current_period"] = p.index;
    out["current_period_start"] = rfc3339(p.start);
    out["current_period_end"] = rfc3339(p.end);
  }
  if (auto at = s.canceled_at())
    out["canceled_at"] = rfc3339(*at);
  return out;
}

} // namespace kassa
