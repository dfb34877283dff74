// A subscription's plain logic (issue 22): what a billing task does next
// from the journal's fold, dunning's statuses and times, commands allowed
// by status, the prorated refund of a cancel, the terms' round trip.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/subscription_logic.hpp"

using namespace kassa;
using json = nlohmann::json;
using namespace std::chrono;
using A = billing_action;

namespace {

billing_time at(int y, unsigned m, unsigned d, int hour = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour};
}

subscription_terms monthly(billing_time start, uint32_t trial_days = 0) {
  subscription_terms t;
  t.id = "sub_1";
  t.customer = "c1";
  t.terms.id = "basic";
  t.terms.version = 2;
  t.terms.name = "Basic";
  t.terms.amount_minor = 3000;
  t.terms.currency = "EUR";
  t.terms.interval = "month";
  t.terms.setup_fee_minor = 500;
  t.terms.trial_days = trial_days;
  t.token = "tok_ok";
  t.created = start;
  t.anchor = start + days{trial_days};
  return t;
}

/// Drives a state by journal entries, as the actor does.
struct journal {
  subscription_state s;
  int32_t seq = 0;

  void add(const std::string& type, json data) {
    if (!data.contains("status"))
      data["status"] = to_string(s.status());
    journal_entry e;
    e.stream = "sub_1";
    e.seq = ++seq;
    e.type = type;
    e.data = data.dump();
    s.apply(e);
  }

  void create(const subscription_terms& t, const char* status = "active") {
    auto data = to_json(t);
    data["status"] = status;
    add("subscription.created", data);
  }

  /// Opens, issues and pays period `k` (attempt 1), and tells the customer.
  void bill(uint64_t k) {
    add("invoice.created", s.open_invoice_data(k));
    add("invoice.issued", {{"period", k}, {"ref", "inv_" + std::to_string(k)}});
    add("invoice.payment_started", {{"period", k}, {"attempt", 1}});
    add("invoice.paid", {{"period", k},
                         {"attempt", 1},
                         {"ref", "pi_" + std::to_string(k)},
                         {"status", to_string(s.status_after_paid(k))}});
    add("customer.notified", {{"about", "paid:" + std::to_string(k)}});
  }

  void fail(uint64_t k, uint32_t attempt, billing_time now,
            const dunning_policy& policy) {
    std::optional<billing_time> next;
    auto status = s.status_after_failure(k, attempt, policy, now, next);
    json data{{"period", k},
              {"attempt", attempt},
              {"error", "card_declined"},
              {"at_s", now.time_since_epoch().count()},
              {"status", to_string(status)}};
    if (next)
      data["next_s"] = next->time_since_epoch().count();
    add("invoice.payment_failed", data);
  }
};

dunning_policy policy(const char* text = "1d,3d,5d,7d") {
  std::string error;
  return dunning_policy{*parse_dunning_schedule(text, error),
                        subscription_status::canceled};
}

} // namespace

TEST_CASE("a period is opened then invoiced then charged then told step by "
          "step and a repeated task finds nothing to do",
          "[subscriptions]") {
  journal j;
  auto start = at(2027, 1, 31, 9);
  CHECK(j.s.next(0, 1, start).kind == A::done); // nothing journaled yet
  j.create(monthly(start));
  CHECK(j.s.next(0, 1, start).kind == A::open_invoice);
  auto data = j.s.open_invoice_data(0);
  CHECK(data["invoice"] == "sub_1.0");
  CHECK(data["amount_minor"] == 3500); // the setup fee with the first period
  CHECK(data["period_end"] == "2027-02-28T09:00:00Z"); // clamped month end
  j.add("invoice.created", data);
  CHECK(j.s.next(0, 1, start).kind == A::issue_invoice);
  j.add("invoice.issued", {{"period", 0}, {"ref", "inv_0"}});
  auto a = j.s.next(0, 1, start);
  CHECK(a.kind == A::start_charge);
  CHECK(a.attempt == 1);
  j.add("invoice.payment_started", {{"period", 0}, {"attempt", 1}});
  // A restart here: the charge under way is asked again under its key,
  // by whichever of the period's tasks finds it (a settling task, attempt
  // 0, leaves it to them: their job runs until it is answered).
  a = j.s.next(0, 1, start);
  CHECK(a.kind == A::charge);
  CHECK(a.attempt == 1);
  CHECK(j.s.next(0, 2, start).kind == A::charge);
  CHECK(j.s.next(0, 0, start).kind == A::done);
  j.add("invoice.paid", {{"period", 0}, {"attempt", 1}, {"ref", "pi_0"}});
  a = j.s.next(0, 1, start);
  CHECK(a.kind == A::notify);
  CHECK(a.about == "paid:0");
  j.add("customer.notified", {{"about", "paid:0"}});
  CHECK(j.s.next(0, 1, start).kind == A::done);
  // A duplicate firing of the period's job, or a stray retry, does nothing.
  CHECK(j.s.next(0, 2, start).kind == A::done);
  CHECK(j.s.next(4, 3, start).kind == A::done);
  // The next period: from the anchor's own day (31 Jan → 28 Feb → 31 Mar).
  j.bill(1);
  auto& inv = j.s.invoices().at(1);
  CHECK(inv.amount_minor == 3000);
  CHECK(inv.start == at(2027, 2, 28, 9));
  CHECK(inv.end == at(2027, 3, 31, 9));
  CHECK(inv.charge_ref() == "pi_1");
  CHECK(j.s.status() == subscription_status::active);
}

TEST_CASE("dunning: past_due with the next try counted from the first "
          "failure and active again when a try is paid or the configured "
          "status after the last",
          "[subscriptions][dunning]") {
  auto start = at(2027, 3, 1);
  auto p = policy("1d,3d");
  journal j;
  j.create(monthly(start));
  j.add("invoice.created", j.s.open_invoice_data(0));
  j.add("invoice.issued", {{"period", 0}, {"ref", "inv_0"}});
  j.add("invoice.payment_started", {{"period", 0}, {"attempt", 1}});
  std::optional<billing_time> next;
  CHECK(j.s.status_after_failure(0, 1, p, start, next)
        == subscription_status::past_due);
  CHECK(next == start + days{1});
  j.fail(0, 1, start, p);
  CHECK(j.s.status() == subscription_status::past_due);
  auto a = j.s.next(0, 1, start);
  CHECK(a.kind == A::notify);
  CHECK(a.about == "payment_failed:0:1");
  j.add("customer.notified", {{"about", "payment_failed:0:1"}});
  CHECK(j.s.next(0, 1, start).kind == A::done);
  CHECK(j.s.next(0, 3, start).kind == A::done); // not the one due
  CHECK(j.s.next(0, 2, start).kind == A::start_charge);
  j.add("invoice.payment_started", {{"period", 0}, {"attempt", 2}});
  // Late (the node was down): the next try is due at once, not in the past.
  auto late = start + days{5};
  CHECK(j.s.status_after_failure(0, 2, p, late, next)
        == subscription_status::past_due);
  CHECK(next == late);
  // Counted from the first failure: day 3.
  CHECK(j.s.status_after_failure(0, 2, p, start + days{1}, next)
        == subscription_status::past_due);
  CHECK(next == start + days{3});
  SECTION("a later try is paid: active again") {
    j.add("invoice.paid", {{"period", 0},
                           {"attempt", 2},
                           {"ref", "pi_0"},
                           {"status", to_string(j.s.status_after_paid(0))}});
    CHECK(j.s.status() == subscription_status::active);
    CHECK(j.s.invoices().at(0).paid());
  }
  SECTION("the last fails: canceled (or unpaid), the invoice uncollectible") {
    j.fail(0, 2, start + days{1}, p);
    j.add("invoice.payment_started", {{"period", 0}, {"attempt", 3}});
    CHECK(j.s.status_after_failure(0, 3, p, start + days{3}, next)
          == subscription_status::canceled);
    CHECK_FALSE(next);
    auto unpaid = p;
    unpaid.after = subscription_status::unpaid;
    CHECK(j.s.status_after_failure(0, 3, unpaid, start + days{3}, next)
          == subscription_status::unpaid);
    j.fail(0, 3, start + days{3}, p);
    CHECK(j.s.invoices().at(0).uncollectible);
    CHECK(j.s.status() == subscription_status::canceled);
    // Told once it is canceled; no period is billed after.
    a = j.s.next(0, 0, start);
    CHECK(a.kind == A::notify);
    CHECK(a.about == "canceled");
    j.add("customer.notified", {{"about", "canceled"}});
    CHECK(j.s.next(1, 1, start + days{40}).kind == A::done);
  }
  SECTION("another period paid while one is in dunning stays past_due") {
    j.fail(0, 2, start + days{1}, p);
    CHECK(j.s.status_after_paid(1) == subscription_status::past_due);
  }
}

TEST_CASE("paused or unpaid periods are skipped and a cancel at period end "
          "takes effect when the next period would open",
          "[subscriptions]") {
  auto start = at(2027, 1, 15);
  journal j;
  j.create(monthly(start));
  j.bill(0);
  CHECK(j.s.can_pause().code.empty());
  CHECK(j.s.can_resume().code == "invalid_state");
  j.add("subscription.paused", {{"status", "paused"}});
  CHECK(j.s.can_pause().code == "invalid_state");
  CHECK(j.s.next(1, 1, start).kind == A::skip_period);
  j.add("subscription.period_skipped", {{"period", 1}});
  CHECK(j.s.next(1, 1, start).kind == A::done);
  CHECK(j.s.status_after_resume(start + days{40})
        == subscription_status::active);
  j.add("subscription.resumed", {{"status", "active"}});
  CHECK(j.s.next(2, 1, start).kind == A::open_invoice);
  j.add("subscription.cancel_scheduled", {});
  CHECK(j.s.cancel_at_period_end());
  CHECK(j.s.next(2, 1, start).kind == A::cancel_at_end);
  j.add("subscription.canceled", {{"status", "canceled"}, {"at_s", 0}});
  CHECK(j.s.can_cancel().code == "invalid_state");
  CHECK(j.s.next(2, 1, start).kind == A::notify);
}

TEST_CASE("a trial: trialing until its end, where period 0 begins",
          "[subscriptions]") {
  auto start = at(2027, 1, 1);
  journal j;
  j.create(monthly(start, 14), "trialing");
  CHECK(j.s.status() == subscription_status::trialing);
  CHECK(j.s.terms().anchor == at(2027, 1, 15));
  CHECK(j.s.open_invoice_data(0)["period_start"] == "2027-01-15T00:00:00Z");
  j.add("subscription.paused", {{"status", "paused"}});
  CHECK(j.s.status_after_resume(start + days{3})
        == subscription_status::trialing);
  auto view = subscription_view(j.s, start + days{3});
  CHECK(view["trial_end"] == "2027-01-15T00:00:00Z");
  CHECK(view["current_period_end"] == "2027-01-15T00:00:00Z");
}

TEST_CASE("a cancel now refunds the unused part of the period paid for but "
          "not the setup fee",
          "[subscriptions]") {
  auto start = at(2027, 4, 1); // April: 30 days
  journal j;
  j.create(monthly(start));
  CHECK(j.s.prorated_refund(start + days{15}).second == 0); // nothing paid
  j.bill(0);
  auto [period, amount] = j.s.prorated_refund(start + days{15});
  CHECK(period == 0);
  CHECK(amount == 1500); // half of 3000; the 500 setup fee is not refunded
  j.add("invoice.refund_requested", {{"period", 0}, {"amount_minor", 1500}});
  auto a = j.s.next(0, 0, start);
  CHECK(a.kind == A::refund);
  CHECK(a.period == 0);
  CHECK(j.s.prorated_refund(start + days{15}).second == 0); // asked once
  j.add("invoice.refunded", {{"period", 0}, {"ref", "re_1"}});
  CHECK(j.s.next(0, 0, start).kind == A::done);
  auto view = subscription_view(j.s, start + days{15});
  CHECK(view["invoices"][0]["refund"]["status"] == "succeeded");
}

TEST_CASE("terms survive their journal form and statuses and ids are named",
          "[subscriptions]") {
  auto t = monthly(at(2027, 1, 31, 9), 7);
  std::string error;
  auto back = subscription_terms_from_json(to_json(t), error);
  REQUIRE(back);
  CHECK(back->terms.same_terms(t.terms));
  CHECK(back->terms.version == 2);
  CHECK(back->anchor == t.anchor);
  CHECK(back->created == t.created);
  CHECK(back->token == "tok_ok");
  CHECK_FALSE(subscription_terms_from_json(json{{"plan", 1}}, error));
  CHECK_FALSE(error.empty());
  for (auto s : {subscription_status::trialing, subscription_status::active,
                 subscription_status::past_due, subscription_status::paused,
                 subscription_status::canceled, subscription_status::unpaid})
    CHECK(parse_subscription_status(to_string(s)) == s);
  CHECK_FALSE(parse_subscription_status("incomplete"));
  CHECK(is_subscription_id("sub_0a"));
  CHECK_FALSE(is_subscription_id("ord_0a"));
  CHECK(invoice_id("sub_1", 12) == "sub_1.12");
}

TEST_CASE("a plan change: an upgrade now with the prorated difference "
          "charged first and a cheaper plan when the period ends",
          "[subscriptions]") {
  auto start = at(2027, 4, 1); // April: 30 days
  journal j;
  j.create(monthly(start));
  j.bill(0);
  auto pro = j.s.terms().terms;
  pro.id = "pro";
  pro.version = 1;
  pro.amount_minor = 9000;
  auto mid = start + days{10};
  std::optional<plan_change> change;
  REQUIRE(j.s.plan_change_for(pro, false, mid, change).code.empty());
  REQUIRE(change);
  CHECK_FALSE(change->at_period_end);
  CHECK(change->id == "sub_1.0-pro-v1");
  CHECK(change->invoice.amount_minor == 4000); // (9000 - 3000) × 20/30
  j.add("subscription.plan_change_requested", to_json(*change));
  // Asked again: nothing new; another change meanwhile: refused.
  std::optional<plan_change> again;
  CHECK(j.s.plan_change_for(pro, false, mid, again).code.empty());
  CHECK_FALSE(again);
  auto other = pro;
  other.id = "team";
  CHECK(j.s.plan_change_for(other, false, mid, again).code == "invalid_state");
  auto a = j.s.next(0, 0, mid);
  CHECK(a.kind == A::issue_invoice);
  CHECK(a.change == "sub_1.0-pro-v1");
  j.add("invoice.issued",
        {{"period", 0}, {"change", "sub_1.0-pro-v1"}, {"ref", "inv_c"}});
  CHECK(j.s.next(0, 0, mid).kind == A::start_charge);
  j.add("invoice.payment_started",
        {{"period", 0}, {"change", "sub_1.0-pro-v1"}, {"attempt", 1}});
  CHECK(j.s.next(0, 0, mid).kind == A::charge);
  SECTION("paid: it takes effect, the next period bills the new price") {
    j.add("invoice.paid", {{"period", 0},
                           {"change", "sub_1.0-pro-v1"},
                           {"attempt", 1},
                           {"ref", "pi_c"}});
    CHECK(j.s.invoices().at(0).paid()); // the period's own is untouched
    a = j.s.next(0, 0, mid);
    CHECK(a.kind == A::apply_change);
    j.add("subscription.plan_changed",
          {{"change", "sub_1.0-pro-v1"}, {"period", 0}});
    CHECK(j.s.terms().terms.id == "pro");
    CHECK(j.s.next(0, 0, mid).kind == A::done);
    CHECK(j.s.open_invoice_data(1)["amount_minor"] == 9000);
    // Back to the cheaper one: when the period ends.
    auto basic = monthly(start).terms;
    REQUIRE(j.s.plan_change_for(basic, false, mid, change).code.empty());
    CHECK(change->at_period_end);
    CHECK(change->invoice.amount_minor == 0);
    j.add("subscription.plan_change_requested", to_json(*change));
    CHECK(j.s.next(0, 0, mid).kind == A::done);
    a = j.s.next(1, 1, start + days{30});
    CHECK(a.kind == A::apply_change);
    j.add("subscription.plan_changed", {{"change", a.change}, {"period", 0}});
    CHECK(j.s.next(1, 1, start + days{30}).kind == A::open_invoice);
    CHECK(j.s.open_invoice_data(1)["amount_minor"] == 3000);
  }
  SECTION("refused: the change is off, the plan stays") {
    j.add("invoice.payment_failed", {{"period", 0},
                                     {"change", "sub_1.0-pro-v1"},
                                     {"attempt", 1},
                                     {"error", "card_declined"}});
    CHECK(j.s.plan_changes()[0].failed);
    CHECK(j.s.next(0, 0, mid).kind == A::done);
    CHECK(j.s.terms().terms.id == "basic");
    CHECK(j.s.status() == subscription_status::active);
  }
}

TEST_CASE("a plan change keeps currency and rhythm and needs an active or "
          "trialing subscription",
          "[subscriptions]") {
  auto start = at(2027, 4, 1);
  journal j;
  j.create(monthly(start, 14), "trialing");
  auto pro = j.s.terms().terms;
  pro.id = "pro";
  pro.amount_minor = 9000;
  std::optional<plan_change> change;
  // In the trial: at once, nothing to prorate.
  REQUIRE(j.s.plan_change_for(pro, true, start + days{1}, change).code.empty());
  CHECK_FALSE(change->at_period_end);
  CHECK(change->invoice.amount_minor == 0);
  auto yearly = pro;
  yearly.interval = "year";
  CHECK(j.s.plan_change_for(yearly, false, start, change).code
        == "invalid_field");
  auto dollars = pro;
  dollars.currency = "USD";
  CHECK(j.s.plan_change_for(dollars, false, start, change).code
        == "invalid_field");
  j.add("subscription.paused", {{"status", "paused"}});
  CHECK(j.s.plan_change_for(pro, false, start, change).code == "invalid_state");
}
