// POST /v1/webhooks/stripe against a real node: a signed
// payment_intent.succeeded finishes an order waiting for 3-D Secure; the
// same event again changes nothing; bad or stale signatures are refused.

#include <ctime>

#include "runtime/hmac.hpp"
#include "support/shop.hpp"

using namespace kassa::test;

namespace {

const std::string secret = "whsec_kassa_test";

http_reply deliver(shop& s, const std::string& body, const std::string& key,
                   std::time_t t) {
  auto ts = std::to_string(t);
  auto sig = kassa::hmac_sha256_hex(key, ts + "." + body);
  // No API key: the signature is the authentication.
  return http_request(s.port, "POST", "/v1/webhooks/stripe",
                      {{"Content-Type", "application/json"},
                       {"Stripe-Signature", "t=" + ts + ",v1=" + sig}},
                      body);
}

std::string
succeeded_event(const std::string& event_id, const std::string& order_id,
                const std::string& type = "payment_intent.succeeded") {
  return json{{"id", event_id},
              {"object", "event"},
              {"type", type},
              {"data",
               {{"object",
                 {{"id", "pi_test"},
                  {"object", "payment_intent"},
                  {"status", "succeeded"},
                  {"metadata", {{"order_id", order_id}}}}}}}}
    .dump();
}

/// Places `order` and waits until it waits for 3-D Secure.
std::string place_waiting(shop& s, const json& order) {
  auto r = s.post("/v1/orders", order);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(s.wait_for(id,
                     [](const json& o) {
                       return o["status"] == "waiting";
                     })["status"]
          == "waiting");
  return id;
}

} // namespace

TEST_CASE("a signed Stripe webhook confirms 3-D Secure once, bad signatures "
          "are refused",
          "[webhooks]") {
  shop s{{"KASSA_STRIPE_WEBHOOK_SECRET=" + secret}};
  s.add_product("scarf", 5);
  auto r = s.post("/v1/orders", shop::order("scarf", "tok_3ds"));
  auto id = json::parse(r.body)["id"].get<std::string>();
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "waiting";
  });
  REQUIRE(o["status"] == "waiting");
  auto body = succeeded_event("evt_1", id);
  auto now = std::time(nullptr);

  auto wrong = deliver(s, body, "whsec_other", now);
  CHECK(wrong.status == 400);
  CHECK(json::parse(wrong.body)["error"]["code"] == "invalid_signature");
  auto stale = deliver(s, body, secret, now - 3600);
  CHECK(stale.status == 400);
  auto first = deliver(s, body, secret, now);
  CHECK(first.status == 200);
  CHECK(json::parse(first.body)["result"] == "confirmed");
  // Stripe delivers again (it did not see the 200, say): nothing happens.
  auto again = deliver(s, body, secret, now);
  CHECK(again.status == 200);
  CHECK(json::parse(again.body)["result"] == "duplicate");
  REQUIRE(s.settle(30s));
  CHECK(s.get("/v1/orders/" + id)["status"] == "completed");
  s.check_exactly_once(s.statuses());

  // A body changed after signing does not verify.
  auto ts = std::to_string(now);
  auto sig = kassa::hmac_sha256_hex(secret, ts + "." + body);
  auto changed = succeeded_event("evt_2", id);
  auto forged = http_request(s.port, "POST", "/v1/webhooks/stripe",
                             {{"Content-Type", "application/json"},
                              {"Stripe-Signature", "t=" + ts + ",v1=" + sig}},
                             changed);
  CHECK(forged.status == 400);
  // Events kassa does not act on are acknowledged, so Stripe stops sending.
  auto other = json{{"id", "evt_3"}, {"type", "charge.refunded"}}.dump();
  auto ignored = deliver(s, other, secret, now);
  CHECK(ignored.status == 200);
  CHECK(json::parse(ignored.body)["result"] == "ignored");
}

TEST_CASE("payment_intent.payment_failed refuses a charge waiting for 3-D "
          "Secure for good: the order is compensated once",
          "[webhooks]") {
  shop s{{"KASSA_STRIPE_WEBHOOK_SECRET=" + secret}};
  s.add_product("hat", 5);
  auto id = place_waiting(s, shop::order("hat", "tok_3ds"));
  auto body
    = succeeded_event("evt_fail_1", id, "payment_intent.payment_failed");
  auto first = deliver(s, body, secret, std::time(nullptr));
  INFO(first.body);
  CHECK(first.status == 200);
  CHECK(json::parse(first.body)["result"] == "refused");
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "cancelled";
  });
  INFO(o.dump());
  CHECK(o["status"] == "cancelled");
  auto again = deliver(s, body, secret, std::time(nullptr));
  CHECK(json::parse(again.body)["result"] == "duplicate");
  CHECK(s.ledger("sandbox-payment")[id]["charge"] == 0);
  CHECK(s.ledger("sandbox-invoicing")[id]["storno"] == 1);
  CHECK(s.get("/v1/products/hat")["reserved"] == 0);
  // On an order not waiting it changes nothing.
  auto done = s.post("/v1/orders", shop::order("hat", "tok_ok"));
  auto done_id = json::parse(done.body)["id"].get<std::string>();
  REQUIRE(s.settle(30s));
  auto late = deliver(
    s, succeeded_event("evt_fail_2", done_id, "payment_intent.payment_failed"),
    secret, std::time(nullptr));
  CHECK(json::parse(late.body)["result"] == "not_waiting");
  CHECK(s.get("/v1/orders/" + done_id)["status"] == "completed");
}

TEST_CASE("an authorization for a later capture is confirmed by "
          "amount_capturable_updated and then waits for its capture",
          "[webhooks]") {
  shop s{{"KASSA_STRIPE_WEBHOOK_SECRET=" + secret}};
  s.add_product("gloves", 5);
  auto order = shop::order("gloves", "tok_3ds");
  order["capture"] = "manual";
  auto id = place_waiting(s, order);
  auto body = succeeded_event("evt_cap_1", id,
                              "payment_intent.amount_capturable_updated");
  auto first = deliver(s, body, secret, std::time(nullptr));
  CHECK(first.status == 200);
  CHECK(json::parse(first.body)["result"] == "confirmed");
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "awaiting_capture";
  });
  INFO(o.dump());
  CHECK(o["status"] == "awaiting_capture");
  CHECK(o["payment"]["status"] == "authorized");
  auto again = deliver(s, body, secret, std::time(nullptr));
  CHECK(json::parse(again.body)["result"] == "duplicate");
  CHECK(s.ledger("sandbox-payment")[id]["authorize"] == 1);
}

TEST_CASE("without a webhook secret the endpoint is not there", "[webhooks]") {
  shop s;
  auto r = http_request(s.port, "POST", "/v1/webhooks/stripe",
                        {{"Content-Type", "application/json"}}, "{}");
  CHECK(r.status == 404);
}

TEST_CASE("charge.refunded records what kassa's refunds do not account for: "
          "a refund made in Stripe's dashboard, once",
          "[webhooks][refund]") {
  shop s{{"KASSA_STRIPE_WEBHOOK_SECRET=" + secret}};
  s.add_product("coat", 5);
  auto r = s.post("/v1/orders", shop::order("coat", "tok_ok"));
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(s.settle(30s));
  auto intent = s.get("/v1/orders/" + id)["payment"]["id"].get<std::string>();
  auto refund = [&](int64_t amount, const std::string& key) {
    return s.post("/v1/orders/" + id + "/refunds", {{"amount_minor", amount}},
                  {{"Idempotency-Key", key}});
  };
  REQUIRE(refund(300, "r1").status == 202);
  REQUIRE(s.settle(30s));
  // The charge as Stripe reports it: found by its PaymentIntent.
  auto refunded = [&](const std::string& event_id, int64_t total) {
    auto body = json{{"id", event_id},
                     {"object", "event"},
                     {"type", "charge.refunded"},
                     {"data",
                      {{"object",
                        {{"id", "ch_1"},
                         {"object", "charge"},
                         {"payment_intent", intent},
                         {"amount_refunded", total}}}}}}
                  .dump();
    auto answer = deliver(s, body, secret, std::time(nullptr));
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    return json::parse(answer.body)["result"].get<std::string>();
  };
  CHECK(refunded("evt_rf_1", 300) == "duplicate"); // kassa's own
  CHECK(refunded("evt_rf_2", 800) == "recorded");  // 500 in the dashboard
  CHECK(refunded("evt_rf_2", 800) == "duplicate"); // delivered again
  CHECK(refunded("evt_rf_3", 800) == "duplicate"); // accounted for
  REQUIRE(s.settle(30s));
  auto o = s.get("/v1/orders/" + id);
  INFO(o.dump());
  REQUIRE(o["refunds"].size() == 2);
  CHECK(o["refunds"][1]["amount_minor"] == 500);
  CHECK(o["refunds"][1]["status"] == "succeeded");
  CHECK(o["refunds"][1]["reason"] == "refunded at stripe");
  CHECK(o["refunds"][1]["credit_note"]["status"] == "issued");
  CHECK(o["refunded_minor"] == 800);
  CHECK(refund(201, "r2").status == 422); // 1000 captured, 800 refunded
  CHECK(refund(200, "r3").status == 202);
  // Only kassa's own refunds reached the sandbox.
  REQUIRE(s.settle(30s));
  CHECK(s.ledger("sandbox-payment")[id]["refund"] == 2);
}
