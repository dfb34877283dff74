// Subscriptions through a real node and PostgreSQL (issue 22), their time
// moved with the test clock: a year of renewals (13 invoices, 13 charges,
// each once, in order), dunning recovered and exhausted, pause and resume,
// a kill -9 while a renewal's charge is under way, commands refused by
// status, events on the notification log.

#include <csignal>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> test_clock_env(std::vector<std::string> more = {}) {
  more.emplace_back("KASSA_CLOCK_TEST_MODE=1");
  more.emplace_back("KASSA_JOBS_POLL_INTERVAL_MS=50");
  return more;
}

int64_t unix_of(const std::string& rfc3339) {
  std::tm tm{};
  std::istringstream in{rfc3339};
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return static_cast<int64_t>(timegm(&tm));
}

void make_plan(shop& s, const std::string& id = "monthly",
               const std::string& interval = "month", int64_t amount = 2990) {
  auto r = s.post("/v1/plans", {{"id", id},
                                {"name", "Monthly"},
                                {"amount_minor", amount},
                                {"currency", "EUR"},
                                {"interval", interval}});
  INFO(r.body);
  REQUIRE((r.status == 201 || r.status == 200));
}

std::string subscribe(shop& s, const std::string& token,
                      const std::string& plan = "monthly") {
  auto r = s.post("/v1/subscriptions",
                  {{"customer", {{"id", "c1"}, {"email", "c1@example.test"}}},
                   {"plan", plan},
                   {"payment", {{"provider", "sandbox"}, {"token", token}}}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto body = json::parse(r.body);
  REQUIRE(body["id"].get<std::string>().rfind("sub_", 0) == 0);
  return body["id"];
}

json subscription(shop& s, const std::string& id) {
  return s.get("/v1/subscriptions/" + id);
}

/// Waits until `done(subscription)`; the last one seen.
json wait_until(shop& s, const std::string& id,
                const std::function<bool(const json&)>& done,
                std::chrono::milliseconds timeout = 20s) {
  json last;
  eventually(
    [&] {
      last = subscription(s, id);
      return done(last);
    },
    timeout);
  return last;
}

/// Moves the node's clock past the end of the subscription's period.
void advance_past_period(shop& s, const std::string& id) {
  auto sub = subscription(s, id);
  auto clock = s.get("/v1/test_clock");
  auto by = unix_of(sub["current_period_end"]) - unix_of(clock["now"]) + 1;
  REQUIRE(by > 0);
  auto r = s.post("/v1/test_clock/advance", {{"seconds", by}});
  INFO(r.body);
  REQUIRE(r.status == 200);
}

void advance(shop& s, int64_t seconds) {
  auto r = s.post("/v1/test_clock/advance", {{"seconds", seconds}});
  INFO(r.body);
  REQUIRE(r.status == 200);
}

/// The invoice of period `k` is paid (and the customer told).
auto paid(size_t k) {
  return [k](const json& sub) {
    auto& inv = sub["invoices"];
    return inv.size() > k && inv[k]["status"] == "paid";
  };
}

/// effects of `op` in `provider`'s ledger per invoice of subscription `id`.
std::map<std::string, int> effects(shop& s, const std::string& provider,
                                   const std::string& id,
                                   const std::string& op) {
  std::map<std::string, int> out;
  for (auto& [order, ops] : s.ledger(provider))
    if (order.rfind(id, 0) == 0 && ops.contains(op))
      out[order] = ops.at(op);
  return out;
}

} // namespace

TEST_CASE("a monthly subscription advanced twelve months: thirteen invoices "
          "and thirteen charges in order and each once",
          "[subscriptions]") {
  shop s{test_clock_env()};
  make_plan(s);
  auto id = subscribe(s, "tok_ok");
  auto sub = wait_until(s, id, paid(0));
  REQUIRE(sub["invoices"].size() == 1);
  CHECK(sub["status"] == "active");
  CHECK(sub["invoices"][0]["amount_minor"] == 2990);
  for (size_t month = 1; month <= 12; ++month) {
    advance_past_period(s, id);
    sub = wait_until(s, id, paid(month));
    INFO(sub.dump());
    REQUIRE(sub["invoices"].size() == month + 1);
  }
  // In order: each period starts where the one before ended, a month on.
  auto& invoices = sub["invoices"];
  for (size_t k = 1; k < invoices.size(); ++k) {
    CHECK(invoices[k]["period"] == k);
    CHECK(invoices[k]["period_start"] == invoices[k - 1]["period_end"]);
    auto days = (unix_of(invoices[k]["period_end"])
                 - unix_of(invoices[k]["period_start"]))
                / 86400;
    CHECK((days >= 28 && days <= 31));
  }
  auto charges = effects(s, "sandbox-payment", id, "charge");
  auto issued = effects(s, "sandbox-invoicing", id, "invoice");
  CHECK(charges.size() == 13);
  CHECK(issued.size() == 13);
  for (size_t k = 0; k <= 12; ++k) {
    auto inv = id + "." + std::to_string(k);
    CHECK(charges[inv] == 1);
    CHECK(issued[inv] == 1);
  }
  // Each period's receipt went to the customer once (the contact service
  // sends each after the subscription stored it).
  eventually(
    [&] {
      return s.ledger("sandbox-messaging")[id]["message"] >= 13;
    },
    10s);
  auto messages = s.ledger("sandbox-messaging")[id]["message"];
  CHECK(messages == 13);
  // Listed by customer and status; the log has the subscription's events.
  auto listed = s.get("/v1/subscriptions?customer=c1&status=active");
  REQUIRE(listed["subscriptions"].size() == 1);
  CHECK(listed["subscriptions"][0]["id"] == id);
  CHECK(s.get("/v1/subscriptions?status=canceled")["subscriptions"].empty());
  auto events = s.get("/v1/events?topic=subscription:" + id + "&limit=1000");
  int paid_events = 0;
  for (auto& e : events["events"]) {
    CHECK(e["topic"] == "subscription:" + id);
    paid_events += e["event"] == "invoice.paid";
  }
  CHECK(paid_events == 13);
}

TEST_CASE("a card that starts failing makes the subscription past_due and a "
          "later try with a new card makes it active again",
          "[subscriptions][dunning]") {
  shop s{test_clock_env()};
  make_plan(s);
  auto id = subscribe(s, "tok_ok");
  wait_until(s, id, paid(0));
  auto r = s.post("/v1/subscriptions/" + id + "/payment_method",
                  {{"token", "tok_decline"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  advance_past_period(s, id);
  auto sub = wait_until(s, id, [](const json& sub) {
    return sub["status"] == "past_due";
  });
  REQUIRE(sub["status"] == "past_due");
  auto& first = sub["invoices"][1]["attempts"][0];
  CHECK(first["status"] == "failed");
  REQUIRE(first.contains("next_attempt_at"));
  // The customer mends the card; the next try (a day on) takes it.
  REQUIRE(
    s.post("/v1/subscriptions/" + id + "/payment_method", {{"token", "tok_ok"}})
      .status
    == 200);
  advance(s, 86400 + 1);
  sub = wait_until(s, id, paid(1));
  INFO(sub.dump());
  CHECK(sub["status"] == "active");
  CHECK(sub["invoices"][1]["attempts"].size() == 2);
  CHECK(effects(s, "sandbox-payment", id, "charge")[id + ".1"] == 1);
  CHECK(effects(s, "sandbox-invoicing", id, "invoice")[id + ".1"] == 1);
}

TEST_CASE("every try failing keeps it past_due through the schedule then "
          "cancels it and nothing is billed again",
          "[subscriptions][dunning]") {
  shop s{test_clock_env({"KASSA_SUBSCRIPTIONS_DUNNING_SCHEDULE=1d,3d"})};
  make_plan(s);
  auto id = subscribe(s, "tok_decline");
  auto sub = wait_until(s, id, [](const json& sub) {
    return sub["status"] == "past_due";
  });
  REQUIRE(sub["status"] == "past_due");
  advance(s, 86400 + 1); // the second try
  wait_until(s, id, [](const json& sub) {
    return sub["invoices"][0]["attempts"].size() == 2
           && sub["invoices"][0]["attempts"][1]["status"] == "failed";
  });
  advance(s, 2 * 86400 + 1); // the third (day 3): the last
  sub = wait_until(s, id, [](const json& sub) {
    return sub["status"] == "canceled";
  });
  INFO(sub.dump());
  REQUIRE(sub["status"] == "canceled");
  CHECK(sub["invoices"][0]["status"] == "uncollectible");
  CHECK(sub["invoices"][0]["attempts"].size() == 3);
  CHECK(sub.contains("canceled_at"));
  // A month on: nothing more.
  advance(s, 40 * 86400);
  std::this_thread::sleep_for(1s);
  sub = subscription(s, id);
  CHECK(sub["invoices"].size() == 1);
  CHECK(effects(s, "sandbox-payment", id, "charge").empty());
  // Told at each failure that leaves a next try, then of the cancel (the
  // last failure's notice is the cancel's: one message, not two).
  eventually(
    [&] {
      return s.ledger("sandbox-messaging")[id]["message"] >= 3;
    },
    10s);
  CHECK(s.ledger("sandbox-messaging")[id]["message"] == 3);
  // A canceled subscription takes no more commands.
  auto again = s.post("/v1/subscriptions/" + id + "/pause", json::object());
  CHECK(again.status == 409);
}

TEST_CASE("a paused subscription skips its periods and bills again after "
          "its resume",
          "[subscriptions]") {
  shop s{test_clock_env()};
  make_plan(s);
  auto id = subscribe(s, "tok_ok");
  wait_until(s, id, paid(0));
  auto pause = s.post("/v1/subscriptions/" + id + "/pause", json::object());
  INFO(pause.body);
  REQUIRE(pause.status == 200);
  CHECK(json::parse(pause.body)["status"] == "paused");
  // Paused twice is refused with the status named.
  CHECK(s.post("/v1/subscriptions/" + id + "/pause", json::object()).status
        == 409);
  advance_past_period(s, id); // period 1 skipped
  eventually(
    [&] {
      return s.db.scalar("SELECT count(*) FROM event_entries WHERE order_id = '"
                         + id + "' AND type = 'subscription.period_skipped'")
             == "1";
    },
    10s);
  advance_past_period(s, id); // period 2 skipped
  eventually(
    [&] {
      return s.db.scalar("SELECT count(*) FROM event_entries WHERE order_id = '"
                         + id + "' AND type = 'subscription.period_skipped'")
             == "2";
    },
    10s);
  auto resume = s.post("/v1/subscriptions/" + id + "/resume", json::object());
  REQUIRE(resume.status == 200);
  CHECK(json::parse(resume.body)["status"] == "active");
  advance_past_period(s, id); // period 3 billed
  auto sub = wait_until(s, id, paid(1));
  INFO(sub.dump());
  REQUIRE(sub["invoices"].size() == 2);
  CHECK(sub["invoices"][1]["period"] == 3);
  CHECK(effects(s, "sandbox-payment", id, "charge").size() == 2);
}

TEST_CASE(
  "a cancel now refunds the unused part once and a cancel at period end "
  "bills nothing more",
  "[subscriptions]") {
  shop s{test_clock_env()};
  make_plan(s);
  auto now_id = subscribe(s, "tok_ok");
  auto later_id = subscribe(s, "tok_ok");
  wait_until(s, now_id, paid(0));
  wait_until(s, later_id, paid(0));
  advance(s, 10 * 86400);
  auto cancel = s.post("/v1/subscriptions/" + now_id + "/cancel",
                       {{"refund", "prorated"}});
  INFO(cancel.body);
  REQUIRE(cancel.status == 200);
  CHECK(json::parse(cancel.body)["status"] == "canceled");
  auto sub = wait_until(s, now_id, [](const json& sub) {
    return sub["invoices"][0].contains("refund")
           && sub["invoices"][0]["refund"]["status"] == "succeeded";
  });
  INFO(sub.dump());
  auto refunded = sub["invoices"][0]["refund"]["amount_minor"].get<int64_t>();
  CHECK(refunded > 0);
  CHECK(refunded < 2990);
  CHECK(effects(s, "sandbox-payment", now_id, "refund")[now_id + ".0"] == 1);
  auto at_end = s.post("/v1/subscriptions/" + later_id + "/cancel",
                       {{"at_period_end", true}});
  REQUIRE(at_end.status == 200);
  auto body = json::parse(at_end.body);
  CHECK(body["status"] == "active");
  CHECK(body["cancel_at_period_end"] == true);
  CHECK(s.post("/v1/subscriptions/" + later_id + "/cancel",
               {{"at_period_end", true}, {"refund", "prorated"}})
          .status
        == 422);
  advance_past_period(s, later_id);
  sub = wait_until(s, later_id, [](const json& sub) {
    return sub["status"] == "canceled";
  });
  CHECK(sub["status"] == "canceled");
  CHECK(sub["invoices"].size() == 1);
  CHECK(effects(s, "sandbox-payment", later_id, "refund").empty());
  CHECK(s.get("/v1/subscriptions/" + now_id)["invoices"].size() == 1);
  CHECK(s.get("/v1/subscriptions?status=canceled")["subscriptions"].size()
        == 2);
}

TEST_CASE("an upgrade mid-period charges the prorated difference once and "
          "a downgrade waits for the period end",
          "[subscriptions]") {
  shop s{test_clock_env()};
  make_plan(s, "monthly", "month", 3000);
  make_plan(s, "pro", "month", 6000);
  auto id = subscribe(s, "tok_ok");
  wait_until(s, id, paid(0));
  advance(s, 10 * 86400);
  auto up
    = s.post("/v1/subscriptions/" + id + "/change_plan", {{"plan", "pro"}});
  INFO(up.body);
  REQUIRE(up.status == 200);
  auto sub = wait_until(s, id, [](const json& sub) {
    return sub["plan"]["id"] == "pro";
  });
  INFO(sub.dump());
  REQUIRE(sub["plan"]["id"] == "pro");
  auto& change = sub["plan_changes"][0];
  CHECK(change["status"] == "applied");
  auto proration = change["proration_minor"].get<int64_t>();
  CHECK(proration > 0);
  CHECK(proration < 3000); // two thirds of the difference or so
  auto change_id = change["id"].get<std::string>();
  // Asked again: the same change, nothing charged twice.
  REQUIRE(
    s.post("/v1/subscriptions/" + id + "/change_plan", {{"plan", "pro"}}).status
    == 200);
  std::this_thread::sleep_for(500ms);
  CHECK(effects(s, "sandbox-payment", id, "charge")[change_id] == 1);
  CHECK(effects(s, "sandbox-invoicing", id, "invoice")[change_id] == 1);
  CHECK(subscription(s, id)["plan_changes"].size() == 1);
  // Another rhythm is refused with the field named.
  make_plan(s, "yearly", "year", 30000);
  auto bad
    = s.post("/v1/subscriptions/" + id + "/change_plan", {{"plan", "yearly"}});
  CHECK(bad.status == 422);
  CHECK(json::parse(bad.body)["error"]["field"] == "plan");
  // The next period bills the new price; a downgrade waits for its end.
  advance_past_period(s, id);
  sub = wait_until(s, id, paid(1));
  CHECK(sub["invoices"][1]["amount_minor"] == 6000);
  auto down
    = s.post("/v1/subscriptions/" + id + "/change_plan", {{"plan", "monthly"}});
  REQUIRE(down.status == 200);
  CHECK(json::parse(down.body)["plan"]["id"] == "pro");
  advance_past_period(s, id);
  sub = wait_until(s, id, paid(2));
  INFO(sub.dump());
  CHECK(sub["plan"]["id"] == "monthly");
  CHECK(sub["invoices"][2]["amount_minor"] == 3000);
  CHECK(effects(s, "sandbox-payment", id, "charge").size() == 4);
}

TEST_CASE("kill -9 while a renewal is charged: one invoice and one charge for "
          "the period",
          "[subscriptions][chaos]") {
  shop s{test_clock_env({"KASSA_JOBS_LEASE_MS=2000"})};
  make_plan(s);
  auto id = subscribe(s, "tok_ok");
  wait_until(s, id, paid(0));
  // The sandbox makes the charge when it arrives and answers after its
  // latency: killed in between, the charge exists and is not journaled.
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"latency_ms", 3000}}).status
    == 200);
  advance_past_period(s, id);
  REQUIRE(eventually(
    [&] {
      return effects(s, "sandbox-payment", id, "charge").size() == 2;
    },
    10s));
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  s.post("/v1/providers/sandbox-payment/chaos", json::object());
  auto sub = wait_until(s, id, paid(1), 30s);
  INFO(sub.dump());
  REQUIRE(sub["invoices"].size() == 2);
  CHECK(effects(s, "sandbox-payment", id, "charge")[id + ".1"] == 1);
  CHECK(effects(s, "sandbox-invoicing", id, "invoice")[id + ".1"] == 1);
  CHECK(sub["status"] == "active");
}

TEST_CASE("subscriptions: bad requests name the field and unknown ids answer "
          "404 and the test clock is absent unless its mode is on",
          "[subscriptions]") {
  shop s{test_clock_env()};
  make_plan(s);
  auto bad = s.post(
    "/v1/subscriptions",
    {{"customer", "c1"}, {"plan", "nope"}, {"payment", {{"token", "tok_ok"}}}});
  CHECK(bad.status == 404);
  CHECK(json::parse(bad.body)["error"]["code"] == "plan_not_found");
  auto spaced
    = s.post("/v1/subscriptions", {{"customer", "c 1"},
                                   {"plan", "monthly"},
                                   {"payment", {{"token", "tok_ok"}}}});
  CHECK(spaced.status == 422);
  CHECK(json::parse(spaced.body)["error"]["field"] == "customer");
  auto no_token
    = s.post("/v1/subscriptions", {{"customer", "c1"}, {"plan", "monthly"}});
  CHECK(no_token.status == 422);
  CHECK(json::parse(no_token.body)["error"]["field"] == "payment");
  auto bad_provider
    = s.post("/v1/subscriptions",
             {{"customer", "c1"},
              {"plan", "monthly"},
              {"payment", {{"provider", "nope"}, {"token", "tok_ok"}}}});
  CHECK(bad_provider.status == 422);
  CHECK(http_get(s.port, "/v1/subscriptions/sub_nope", with_key()).status
        == 404);
  CHECK(s.post("/v1/subscriptions/sub_nope/pause", json::object()).status
        == 404);
  CHECK(http_get(s.port, "/v1/subscriptions?status=nope", with_key()).status
        == 422);
  CHECK(s.post("/v1/test_clock/advance", {{"seconds", 0}}).status == 422);
  // Idempotent: the same key answers the same subscription.
  json body{{"customer", "c2"},
            {"plan", "monthly"},
            {"payment", {{"token", "tok_ok"}}}};
  auto a = s.post("/v1/subscriptions", body, {{"Idempotency-Key", "k1"}});
  auto b = s.post("/v1/subscriptions", body, {{"Idempotency-Key", "k1"}});
  REQUIRE(a.status == 201);
  CHECK(json::parse(a.body)["id"] == json::parse(b.body)["id"]);
  shop plain;
  CHECK(http_get(plain.port, "/v1/test_clock", with_key()).status == 404);
  CHECK(plain.post("/v1/test_clock/advance", {{"seconds", 60}}).status == 404);
}
