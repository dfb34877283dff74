// Payment routing and failover against a real node: `"provider":"auto"`
// orders are charged by the processor payments.routes chooses (Adyen
// through the real adapter, against a stand-in of its API on loopback,
// and the sandbox); when the first processor is out, every order moves to
// the next and is charged exactly once.

#include "support/adyen_notification.hpp"
#include "support/fake_adyen.hpp"
#include "support/shop.hpp"

using namespace kassa::test;

namespace {

std::vector<std::string> routed_env(const fake_adyen& adyen,
                                    const std::string& routes) {
  return {"KASSA_ADYEN_API_KEY=adyen-test-key",
          "KASSA_ADYEN_MERCHANT_ACCOUNT=KassaTest",
          "KASSA_ADYEN_BASE_URL=" + adyen.base_url(),
          "KASSA_PAYMENTS_ROUTES=" + routes,
          "KASSA_ADYEN_HMAC_KEY=" + adyen_key_hex,
          // Fewer retries per call: the failover test reaches the circuit
          // sooner (each saga still sees its processor refuse).
          "KASSA_PROVIDERS_OVERRIDES=adyen.max_attempts=2"};
}

void add_product(shop& s, const std::string& sku, const std::string& currency,
                 int64_t price) {
  auto r = s.post("/v1/products", {{"sku", sku},
                                   {"name", sku},
                                   {"price_minor", price},
                                   {"currency", currency},
                                   {"stock", 1000}});
  REQUIRE(r.status == 201);
}

json auto_order(const std::string& sku, int quantity = 1) {
  auto o = shop::order(sku, "tok_ok", quantity);
  o["payment"]["provider"] = "auto";
  return o;
}

std::vector<std::string> place(shop& s, const std::string& sku, int n,
                               const std::string& prefix) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = s.post("/v1/orders", auto_order(sku),
                    {{"Idempotency-Key", prefix + std::to_string(i)}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    ids.push_back(json::parse(r.body)["id"]);
  }
  return ids;
}

/// Places an Adyen order of `sku` paid with stored card `card` and waits
/// until it waits (for the shopper, or for Adyen's decision).
std::string place_waiting(shop& s, const std::string& sku,
                          const std::string& card) {
  auto order = shop::order(sku, card);
  order["payment"]["provider"] = "adyen";
  auto r = s.post("/v1/orders", order);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "waiting";
  });
  INFO(o.dump());
  REQUIRE(o["status"] == "waiting");
  return id;
}

} // namespace

TEST_CASE("routing by currency: EUR orders are charged by Adyen and HUF "
          "orders by the sandbox",
          "[routing]") {
  fake_adyen adyen;
  shop s{routed_env(adyen, "currency=EUR -> adyen sandbox,currency=HUF "
                           "max=100000 -> sandbox")};
  add_product(s, "route-eur", "EUR", 2500);
  add_product(s, "route-huf", "HUF", 1000);
  auto eur = place(s, "route-eur", 10, "eur-");
  auto huf = place(s, "route-huf", 10, "huf-");
  REQUIRE(s.settle(60s));
  auto at_adyen = adyen.payments_by_order();
  auto sandbox = s.ledger("sandbox-payment");
  for (auto& id : eur) {
    INFO(id);
    auto o = s.get("/v1/orders/" + id);
    CHECK(o["status"] == "completed");
    CHECK(o["payment"]["provider"] == "adyen");
    CHECK(o["payment"]["id"].get<std::string>().rfind("FAKEPSP", 0) == 0);
    CHECK(at_adyen[id] == 1);
    CHECK(sandbox[id]["charge"] == 0);
  }
  for (auto& id : huf) {
    INFO(id);
    auto o = s.get("/v1/orders/" + id);
    CHECK(o["status"] == "completed");
    CHECK(o["payment"]["provider"] == "sandbox");
    CHECK(at_adyen.count(id) == 0);
    CHECK(sandbox[id]["charge"] == 1);
  }
  CHECK(at_adyen.size() == eur.size());
  // No route for 200,000 HUF: refused, nothing created.
  auto big = s.post("/v1/orders", auto_order("route-huf", 200));
  CHECK(big.status == 422);
  CHECK(json::parse(big.body)["error"]["field"] == "payment.provider");
  // An order that names its processor is not routed.
  auto named = shop::order("route-eur", "tok_ok");
  auto r = s.post("/v1/orders", named);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(s.settle(30s));
  CHECK(s.get("/v1/orders/" + id)["payment"]["provider"] == "sandbox");
  CHECK(adyen.payments_by_order().count(id) == 0);
}

TEST_CASE("failover from a processor in outage to the second: each order "
          "charged exactly once",
          "[routing]") {
  fake_adyen adyen;
  adyen.set(fake_adyen::mode::unavailable);
  shop s{routed_env(adyen, "currency=EUR -> adyen sandbox")};
  add_product(s, "fail-eur", "EUR", 2500);
  auto ids = place(s, "fail-eur", 30, "fail-");
  REQUIRE(s.settle(90s));
  CHECK(adyen.refused() > 0); // it was asked, and said no
  CHECK(adyen.payments_by_order().empty());
  auto sandbox = s.ledger("sandbox-payment");
  for (auto& id : ids) {
    INFO(id);
    auto o = s.get("/v1/orders/" + id);
    CHECK(o["status"] == "completed");
    CHECK(o["payment"]["provider"] == "sandbox");
    CHECK(sandbox[id]["charge"] == 1);
    auto steps = s.db.scalar("SELECT count(*) FROM events WHERE order_id = '"
                             + id + "' AND type = 'payment.rerouted'");
    CHECK(steps == "1");
  }
  s.check_exactly_once(s.statuses());
  // Back in service: new orders go to Adyen again once its circuit lets
  // calls through (an order that meets it still open moves on, charged
  // once either way).
  adyen.set(fake_adyen::mode::ok);
  REQUIRE(eventually(
    [&] {
      auto r = s.post("/v1/orders", auto_order("fail-eur"));
      if (r.status != 202)
        return false;
      auto id = json::parse(r.body)["id"].get<std::string>();
      auto o = s.wait_for(id, [](const json& o) {
        return o["status"] == "completed";
      });
      return o["payment"]["provider"] == "adyen";
    },
    30s));
  for (auto& [id, n] : adyen.payments_by_order())
    CHECK(n == 1);
}

TEST_CASE("an Adyen payment that asks for the shopper waits and completes "
          "once through payments/details with the shopper's result",
          "[routing][adyen]") {
  fake_adyen adyen;
  shop s{routed_env(adyen, "-> adyen")};
  add_product(s, "adyen-3ds", "EUR", 2500);
  auto id = place_waiting(s, "adyen-3ds", "3ds-card-1");
  auto confirm = [&](const json& body) {
    return s.post("/v1/orders/" + id + "/payment/confirm", body);
  };
  // Bad bodies are refused and change nothing.
  for (auto bad : {json{{"details", "x"}}, json{{"details", json::object()}},
                   json{{"details", {{"redirectResult", 7}}}},
                   json{{"detail", {{"redirectResult", "x"}}}}}) {
    INFO(bad.dump());
    auto refused = confirm(bad);
    CHECK(refused.status / 100 == 4);
  }
  CHECK(s.get("/v1/orders/" + id)["status"] == "waiting");
  auto accepted = confirm({{"details", {{"redirectResult", id}}}});
  CHECK(accepted.status == 202);
  REQUIRE(s.settle(30s));
  auto o = s.get("/v1/orders/" + id);
  CHECK(o["status"] == "completed");
  CHECK(o["payment"]["provider"] == "adyen");
  CHECK(adyen.payments_by_order()[id] == 1);
  // The shopper's result is journaled with the confirmed charge (a restart
  // sends it again, under the same key).
  CHECK(s.db.scalar("SELECT data->'details'->>'redirectResult' FROM events "
                    "WHERE order_id = '"
                    + id + "' AND data->'details' IS NOT NULL")
        == id);
}

TEST_CASE("an Adyen payment answered Received waits for its AUTHORISATION "
          "webhook: authorised completes it once, refused cancels it, a "
          "cancel meanwhile reverses it",
          "[routing][adyen]") {
  fake_adyen adyen;
  shop s{routed_env(adyen, "-> adyen")};
  add_product(s, "adyen-pending", "EUR", 2500);
  auto place_pending = [&](const std::string& card) {
    return place_waiting(s, "adyen-pending", card);
  };
  auto notify = [&](const std::string& id, const std::string& success) {
    adyen_item item{"AUTHORISATION",  id,
                    adyen.psp_of(id), "",
                    success,          success == "true" ? "" : "Refused"};
    return post_adyen_webhook(s.port, adyen_notification(item, adyen_key_hex));
  };
  auto events = [&](const std::string& id) {
    return s.db.scalar("SELECT count(*) FROM events WHERE order_id = '" + id
                       + "'");
  };

  // Authorised: the charge is the pending payment, the order completes.
  auto paid = place_pending("pending-card-1");
  REQUIRE_FALSE(adyen.psp_of(paid).empty());
  // Not the customer's to confirm: Adyen decides.
  CHECK(s.post("/v1/orders/" + paid + "/payment/confirm",
               {{"details", {{"redirectResult", "x"}}}})
          .status
        == 409);
  auto first = notify(paid, "true");
  INFO(first.body);
  CHECK(first.status == 200);
  REQUIRE(s.settle(30s));
  auto o = s.get("/v1/orders/" + paid);
  CHECK(o["status"] == "completed");
  CHECK(o["payment"]["id"] == adyen.psp_of(paid));
  CHECK(adyen.payments_by_order()[paid] == 1);
  auto rows = events(paid);
  CHECK(notify(paid, "true").status == 200); // delivered again
  CHECK(events(paid) == rows);               // changes nothing

  // Refused: the order is compensated; nothing is held, nothing reversed.
  auto refused = place_pending("pending-card-2");
  CHECK(notify(refused, "false").status == 200);
  o = s.wait_for(refused, [](const json& o) {
    return o["status"] == "cancelled";
  });
  CHECK(o["status"] == "cancelled");
  // Cancelled while pending: the payment is reversed at Adyen, once.
  auto given_up = place_pending("pending-card-3");
  REQUIRE(s.post("/v1/orders/" + given_up + "/cancel", json::object()).status
          == 202);
  o = s.wait_for(given_up, [](const json& o) {
    return o["status"] == "cancelled";
  });
  CHECK(o["status"] == "cancelled");
  int reversals = 0;
  for (auto& target : adyen.modifications()) {
    INFO(target);
    CHECK(target.find(adyen.psp_of(refused)) == std::string::npos);
    if (target == "/payments/" + adyen.psp_of(given_up) + "/reversals")
      ++reversals;
  }
  CHECK(reversals == 1);
  // Its AUTHORISATION arriving late finds nothing waiting for it.
  auto late = notify(given_up, "true");
  CHECK(late.status == 200);
  CHECK(s.get("/v1/orders/" + given_up)["status"] == "cancelled");
}

TEST_CASE("Adyen reports refunds made elsewhere, and a capture and a refund "
          "it had acknowledged as failed: each is recorded on the order once",
          "[routing][adyen]") {
  fake_adyen adyen;
  shop s{routed_env(adyen, "-> adyen")};
  add_product(s, "adyen-mods", "EUR", 2500);
  auto order = shop::order("adyen-mods", "card-1", 2);
  order["payment"]["provider"] = "adyen";
  order["capture"] = "manual";
  auto r = s.post("/v1/orders", order);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(s.wait_for(id,
                     [](const json& o) {
                       return o["status"] == "awaiting_capture";
                     })["status"]
          == "awaiting_capture");
  REQUIRE(s.post("/v1/orders/" + id + "/capture", json::object()).status
          == 202);
  REQUIRE(s.settle(30s));
  REQUIRE(s.post("/v1/orders/" + id + "/refunds", {{"amount_minor", 1000}},
                 {{"Idempotency-Key", "mods-1"}})
            .status
          == 202);
  auto o = s.wait_for(id, [](const json& o) {
    return o["refunds"].size() == 1 && o["refunds"][0]["status"] == "succeeded";
  });
  INFO(o.dump());
  REQUIRE(o["refunded_minor"] == 1000);
  auto capture_psp = o["payment"]["captures"][0]["provider_ref"];
  auto refund_psp = o["refunds"][0]["provider_ref"];
  auto notify = [&](const std::string& code, const std::string& psp) {
    adyen_item item{code, id, psp, adyen.psp_of(id), "true", "Insufficient"};
    return post_adyen_webhook(s.port, adyen_notification(item, adyen_key_hex));
  };
  auto events = [&] {
    return s.db.scalar("SELECT count(*) FROM events WHERE order_id = '" + id
                       + "'");
  };
  // A successful capture's report changes nothing, nor does the report of
  // kassa's own refund; a refund made elsewhere is recorded, once.
  auto rows = events();
  CHECK(notify("CAPTURE", capture_psp).status == 200);
  CHECK(notify("REFUND", refund_psp).status == 200);
  CHECK(events() == rows);
  CHECK(notify("REFUND", "EXTERNAL0000001").status == 200);
  o = s.wait_for(id, [](const json& o) {
    return o["refunds"].size() == 2 && o["status"] == "completed";
  });
  REQUIRE(o["refunds"].size() == 2);
  CHECK(o["refunds"][1]["provider_ref"] == "EXTERNAL0000001");
  CHECK(o["refunds"][1]["amount_minor"] == 1000);
  CHECK(o["refunds"][1]["reason"] == "refunded at adyen");
  CHECK(o["refunded_minor"] == 2000);
  rows = events();
  CHECK(notify("REFUND", "EXTERNAL0000001").status == 200);
  CHECK(events() == rows);

  CHECK(notify("REFUND_FAILED", refund_psp).status == 200);
  o = s.wait_for(id, [](const json& o) {
    return o["refunds"][0]["status"] == "failed";
  });
  CHECK(o["refunds"][0]["status"] == "failed");
  CHECK(o["refunds"][0]["error"].get<std::string>().find("Insufficient")
        != std::string::npos);
  CHECK(o["refunded_minor"] == 1000); // the one made elsewhere stays
  CHECK(notify("CAPTURE_FAILED", capture_psp).status == 200);
  o = s.wait_for(id, [](const json& o) {
    return o["payment"]["status"] == "capture_failed";
  });
  CHECK(o["payment"]["status"] == "capture_failed");
  CHECK(o["payment"]["captured_minor"] == 0);
  CHECK(o["payment"]["captures"][0]["status"] == "failed");
  CHECK(o["status"] == "completed");
  // Each again: recognised, nothing changes.
  rows = events();
  CHECK(notify("REFUND_FAILED", refund_psp).status == 200);
  CHECK(notify("CAPTURE_FAILED", capture_psp).status == 200);
  CHECK(events() == rows);
  // Nothing captured: nothing more to refund.
  CHECK(s.post("/v1/orders/" + id + "/refunds", {{"amount_minor", 1}},
               {{"Idempotency-Key", "mods-2"}})
          .status
        == 422);
}
