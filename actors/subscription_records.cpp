// A subscription's records: its terms and plan changes as the journal
// keeps them, and the subscription as GET /v1/subscriptions/{id} shows it.

#include <nlohmann/json.hpp>

#include "actors/subscription_fields.hpp"
#include "actors/subscription_logic.hpp"
#include "runtime/clock.hpp"

namespace kassa {

using json = nlohmann::json;
using namespace subscription_fields;

namespace {

std::string_view invoice_status(const period_invoice& inv) {
  if (inv.paid())
    return "paid";
  if (inv.uncollectible)
    return "uncollectible";
  if (inv.in_dunning())
    return "past_due";
  return "open";
}

} // namespace

json to_json(const plan& p) {
  return {{"id", p.id},
          {"version", p.version},
          {"name", p.name},
          {"amount_minor", p.amount_minor},
          {"currency", p.currency},
          {"interval", p.interval},
          {"interval_count", p.interval_count},
          {"trial_days", p.trial_days},
          {"setup_fee_minor", p.setup_fee_minor}};
}

plan plan_from_json(const json& p) {
  plan out;
  out.id = text_of(p, "id");
  out.version = static_cast<uint32_t>(integer_of(p, "version"));
  out.name = text_of(p, "name");
  out.amount_minor = integer_of(p, "amount_minor");
  out.currency = text_of(p, "currency");
  out.interval = text_of(p, "interval");
  out.interval_count = static_cast<uint32_t>(integer_of(p, "interval_count"));
  out.trial_days = static_cast<uint32_t>(integer_of(p, "trial_days"));
  out.setup_fee_minor = integer_of(p, "setup_fee_minor");
  return out;
}

json to_json(const plan_change& c) {
  return {{"change", c.id},
          {"period", c.period},
          {"plan", to_json(c.to)},
          {"at_period_end", c.at_period_end},
          {"invoice", c.invoice.id},
          {"amount_minor", c.invoice.amount_minor},
          {"start_s", c.invoice.start.time_since_epoch().count()},
          {"end_s", c.invoice.end.time_since_epoch().count()}};
}

json to_json(const subscription_terms& t) {
  return {
    {"subscription", t.id},
    {"customer", t.customer},
    {"email", t.email},
    {"plan", to_json(t.terms)},
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
  t.terms = plan_from_json(data["plan"]);
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
  auto changes = json::array();
  for (auto& c : s.plan_changes()) {
    json one{{"id", c.id},
             {"plan", {{"id", c.to.id}, {"version", c.to.version}}},
             {"at_period_end", c.at_period_end},
             {"status", c.applied  ? "applied"
                        : c.failed ? "failed"
                                   : "pending"},
             {"proration_minor", c.invoice.amount_minor}};
    if (!c.invoice.invoice_ref.empty())
      one["invoice_ref"] = c.invoice.invoice_ref;
    if (!c.invoice.attempts.empty()) {
      auto& a = c.invoice.attempts.back();
      if (!a.ref.empty())
        one["charge_ref"] = a.ref;
      if (!a.error.empty())
        one["error"] = a.error;
    }
    changes.push_back(std::move(one));
  }
  if (!changes.empty())
    out["plan_changes"] = std::move(changes);
  return out;
}

} // namespace kassa
