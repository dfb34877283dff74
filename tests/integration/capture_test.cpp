// Manual capture end to end (issue 21): authorize at checkout, capture or
// void on the shop's command, an authorization voided when nobody captures
// it, and a capture exactly once through a kill -9. Real node, real
// PostgreSQL, sandbox providers (their ledgers are the ground truth).

#include <signal.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

json manual_order(const std::string& sku, const std::string& token = "tok_ok",
                  int quantity = 1) {
  auto o = shop::order(sku, token, quantity);
  o["capture"] = "manual";
  return o;
}

std::string place(shop& s, const json& order) {
  auto r = s.post("/v1/orders", order);
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 202);
  return json::parse(r.body)["id"].get<std::string>();
}

json awaiting(shop& s, const std::string& id) {
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "awaiting_capture";
  });
  INFO(o.dump());
  REQUIRE(o["status"] == "awaiting_capture");
  return o;
}

json finished(shop& s, const std::string& id) {
  return s.wait_for(
    id,
    [](const json& o) {
      return o["status"] == "completed" || o["status"] == "cancelled"
             || o["status"] == "failed";
    },
    30s);
}

/// The amounts of `op` effects of `order_id` in a sandbox's ledger.
std::vector<int64_t> amounts(shop& s, const std::string& provider,
                             const std::string& order_id,
                             const std::string& op) {
  auto r
    = http_get(s.port, "/v1/providers/" + provider + "/ledger", with_key());
  REQUIRE(r.status == 200);
  std::vector<int64_t> out;
  auto ledger = json::parse(r.body); // outlives the loop
  for (auto& e : ledger["effects"])
    if (e["order_id"] == order_id && e["op"] == op)
      out.push_back(e["amount_minor"].get<int64_t>());
  return out;
}

} // namespace

TEST_CASE("manual capture: the order waits authorized and a partial capture "
          "completes it with each effect once",
          "[orders][capture]") {
  shop s;
  s.add_product("lamp", 5);
  auto id = place(s, manual_order("lamp", "tok_ok", 2)); // 2000 HUF
  auto o = awaiting(s, id);
  CHECK(o["payment"]["status"] == "authorized");
  CHECK(o["payment"]["authorized_minor"] == 2000);
  CHECK(o["payment"]["captured_minor"] == 0);
  CHECK(o["shipment"].is_null());
  // Listed under its own status; stock stays reserved meanwhile.
  auto listed = s.get("/v1/orders?status=awaiting_capture")["orders"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == id);
  CHECK(s.get("/v1/products/lamp")["reserved"] == 2);
  CHECK(amounts(s, "sandbox-payment", id, "authorize")
        == std::vector<int64_t>{2000});
  CHECK(amounts(s, "sandbox-payment", id, "charge").empty());
  // Bad captures change nothing.
  CHECK(s.post("/v1/orders/" + id + "/capture", {{"amount_minor", 2001}}).status
        == 422);
  CHECK(
    s.post("/v1/orders/" + id + "/capture", {{"amount_minor", "all"}}).status
    == 422);
  CHECK(s.post("/v1/orders/" + id + "/capture", {{"amount", 5}}).status == 422);
  CHECK(s.post("/v1/orders/no-such-order/capture", json::object()).status
        == 404);
  auto capture
    = s.post("/v1/orders/" + id + "/capture", {{"amount_minor", 1500}});
  INFO(capture.body);
  REQUIRE(capture.status == 202);
  CHECK(json::parse(capture.body)["amount_minor"] == 1500);
  o = finished(s, id);
  CHECK(o["status"] == "completed");
  CHECK(o["payment"]["status"] == "partially_captured");
  CHECK(o["payment"]["captured_minor"] == 1500);
  // Captured once; a second capture or a void is refused.
  CHECK(s.post("/v1/orders/" + id + "/capture", json::object()).status == 409);
  CHECK(s.post("/v1/orders/" + id + "/void", json::object()).status == 409);
  CHECK(amounts(s, "sandbox-payment", id, "capture")
        == std::vector<int64_t>{1500});
  CHECK(s.ledger("sandbox-shipping")[id]["shipment"] == 1);
  CHECK(s.ledger("sandbox-invoicing")[id]["invoice"] == 1);
  CHECK(s.get("/v1/products/lamp")["stock"] == 3);
  CHECK(s.get("/v1/products/lamp")["reserved"] == 0);
  // An order captured at once knows no capture.
  auto sale = place(s, shop::order("lamp", "tok_ok"));
  CHECK(finished(s, sale)["status"] == "completed");
  CHECK(s.post("/v1/orders/" + sale + "/capture", json::object()).status
        == 409);
  CHECK(s.get("/v1/orders/" + sale)["steps"].size() == 6);
  // The capture_payment step shows only on manual orders.
  CHECK(s.get("/v1/orders/" + id)["steps"].size() == 7);
}

TEST_CASE("several captures of one authorization: each once under its "
          "key, the final one ships, a void after one refunds it",
          "[orders][capture]") {
  shop s;
  s.add_product("desk", 5);
  auto id = place(s, manual_order("desk", "tok_ok", 2)); // 2000 HUF
  awaiting(s, id);
  auto capture = [&](const json& body, const std::string& key) {
    header_list h;
    if (!key.empty())
      h.emplace_back("Idempotency-Key", key);
    return s.post("/v1/orders/" + id + "/capture", body, h);
  };
  auto partial = [](int64_t amount) {
    return json{{"amount_minor", amount}, {"final", false}};
  };
  // A capture that is not final needs an amount and a key.
  CHECK(capture(partial(500), "").status == 422);
  CHECK(capture({{"final", false}}, "k").status == 422);
  CHECK(capture({{"amount_minor", 500}, {"final", "no"}}, "k").status == 422);
  auto first = capture(partial(500), "ship-1");
  INFO(first.body);
  REQUIRE(first.status == 202);
  CHECK(json::parse(first.body)["capture"] == 1);
  // Sent again (its answer lost): the same capture, not another.
  auto again = capture(partial(500), "ship-1");
  CHECK(again.status == 202);
  CHECK(json::parse(again.body)["capture"] == 1);
  CHECK(capture(partial(400), "ship-1").status == 422); // key reused
  auto o = s.wait_for(id, [](const json& o) {
    return o["payment"]["captured_minor"] == 500
           && o["status"] == "awaiting_capture";
  });
  INFO(o.dump());
  REQUIRE(o["status"] == "awaiting_capture");
  CHECK(o["payment"]["status"] == "partially_captured");
  CHECK(o["payment"]["capturable_minor"] == 1500);
  CHECK(o["shipment"].is_null()); // ships after the final capture
  CHECK(capture(partial(1501), "ship-2").status == 422); // more than is left
  REQUIRE(capture(partial(700), "ship-2").status == 202);
  s.wait_for(id, [](const json& o) {
    return o["payment"]["captured_minor"] == 1200
           && o["status"] == "awaiting_capture";
  });
  auto last = capture(json::object(), ""); // the rest, final
  INFO(last.body);
  REQUIRE(last.status == 202);
  CHECK(json::parse(last.body)["amount_minor"] == 800);
  o = finished(s, id);
  CHECK(o["status"] == "completed");
  CHECK(o["payment"]["status"] == "captured");
  CHECK(o["payment"]["captured_minor"] == 2000);
  CHECK(o["payment"]["captures"].size() == 3);
  CHECK(amounts(s, "sandbox-payment", id, "capture")
        == std::vector<int64_t>{500, 700, 800});
  CHECK(amounts(s, "sandbox-payment", id, "void").empty());
  CHECK(s.ledger("sandbox-shipping")[id]["shipment"] == 1);
  CHECK(capture(partial(1), "ship-3").status == 409);
  // Refunds reach what all captures took.
  header_list k{{"Idempotency-Key", "back-1"}};
  CHECK(
    s.post("/v1/orders/" + id + "/refunds", {{"amount_minor", 1900}}, k).status
    == 202);

  // A void after a capture that was not final: the capture is refunded,
  // the rest of the authorization released, the order cancelled.
  auto other = place(s, manual_order("desk", "tok_ok", 2));
  awaiting(s, other);
  header_list k2{{"Idempotency-Key", "part"}};
  REQUIRE(s.post("/v1/orders/" + other + "/capture",
                 {{"amount_minor", 600}, {"final", false}}, k2)
            .status
          == 202);
  s.wait_for(other, [](const json& o) {
    return o["payment"]["captured_minor"] == 600
           && o["status"] == "awaiting_capture";
  });
  REQUIRE(s.post("/v1/orders/" + other + "/void", json::object()).status
          == 202);
  o = finished(s, other);
  CHECK(o["status"] == "cancelled");
  CHECK(o["payment"]["status"] == "refunded");
  CHECK(amounts(s, "sandbox-payment", other, "capture")
        == std::vector<int64_t>{600});
  CHECK(amounts(s, "sandbox-payment", other, "refund")
        == std::vector<int64_t>{600});
  CHECK(amounts(s, "sandbox-payment", other, "void")
        == std::vector<int64_t>{1400});
  CHECK(s.ledger("sandbox-shipping")[other]["shipment"] == 0);
}

TEST_CASE("a void compensates an authorized order, and an authorization "
          "nobody captures is voided after orders.authorization_ttl_ms",
          "[orders][capture]") {
  shop s{{"KASSA_ORDERS_AUTHORIZATION_TTL_MS=1500"}};
  s.add_product("vase", 5);
  auto id = place(s, manual_order("vase"));
  awaiting(s, id);
  auto v = s.post("/v1/orders/" + id + "/void", json::object());
  INFO(v.body);
  CHECK(v.status == 202);
  auto o = finished(s, id);
  CHECK(o["status"] == "cancelled");
  CHECK(o["payment"]["status"] == "voided");
  CHECK(amounts(s, "sandbox-payment", id, "void")
        == std::vector<int64_t>{1000});
  CHECK(amounts(s, "sandbox-payment", id, "capture").empty());
  CHECK(amounts(s, "sandbox-payment", id, "refund").empty());
  CHECK(s.ledger("sandbox-invoicing")[id]["storno"] == 1);
  CHECK(s.ledger("sandbox-shipping")[id]["shipment"] == 0);
  // Nobody captures this one: voided when its authorization expires.
  auto late = place(s, manual_order("vase"));
  awaiting(s, late);
  o = finished(s, late);
  CHECK(o["status"] == "cancelled");
  CHECK(o["payment"]["status"] == "voided");
  CHECK(amounts(s, "sandbox-payment", late, "void").size() == 1);
  auto events = s.get("/v1/orders/" + late + "/events");
  bool expired = false;
  for (auto& e : events["events"]) // `events` outlives the loop
    expired
      = expired || e.dump().find("authorization_expired") != std::string::npos;
  CHECK(expired);
  CHECK(s.get("/v1/products/vase")["reserved"] == 0);
  CHECK(s.get("/v1/products/vase")["stock"] == 5);
}

TEST_CASE("the waits of orders end on the test clock: an authorization "
          "nobody captures and a 3-D Secure nobody completes",
          "[orders][capture][clock]") {
  shop s{{"KASSA_CLOCK_TEST_MODE=1"}};
  s.add_product("vase", 5);
  auto id = place(s, manual_order("vase"));
  awaiting(s, id);
  auto three_ds = place(s, shop::order("vase", "tok_3ds"));
  auto w = s.wait_for(three_ds, [](const json& o) {
    return o["status"] == "waiting";
  });
  REQUIRE(w["status"] == "waiting");
  // The clock not moved: both wait (a test clock is looked at each second).
  std::this_thread::sleep_for(1500ms);
  CHECK(s.get("/v1/orders/" + id)["status"] == "awaiting_capture");
  CHECK(s.get("/v1/orders/" + three_ds)["status"] == "waiting");
  // Eight days on (an authorization lasts seven, a 3-D Secure wait 15
  // minutes): both are over.
  REQUIRE(s.post("/v1/test_clock/advance", {{"seconds", 8 * 86400}}).status
          == 200);
  auto o = finished(s, id);
  CHECK(o["status"] == "cancelled");
  CHECK(o["payment"]["status"] == "voided");
  CHECK(amounts(s, "sandbox-payment", id, "void").size() == 1);
  auto t = finished(s, three_ds);
  CHECK(t["status"] == "cancelled");
}

TEST_CASE("kill -9 between authorize and capture and again during the "
          "capture: captured once after each restart",
          "[orders][capture][chaos]") {
  shop s;
  s.add_product("desk", 5);
  auto id = place(s, manual_order("desk"));
  awaiting(s, id);
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  awaiting(s, id); // resumed, still waiting for its capture
  // The sandbox makes the effect when the call arrives and answers after
  // its latency: killed in between, the capture is made but not answered.
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"latency_ms", 3000}}).status
    == 200);
  http_reply capture;
  try {
    capture = s.post("/v1/orders/" + id + "/capture", json::object());
  } catch (const std::exception& e) {
    FAIL(e.what() << "\n" << s.node->output());
  }
  REQUIRE(capture.status == 202);
  REQUIRE(eventually(
    [&] {
      return amounts(s, "sandbox-payment", id, "capture").size() == 1;
    },
    10s));
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  s.post("/v1/providers/sandbox-payment/chaos", json::object());
  auto o = finished(s, id);
  CHECK(o["status"] == "completed");
  CHECK(o["payment"]["status"] == "captured");
  CHECK(amounts(s, "sandbox-payment", id, "capture")
        == std::vector<int64_t>{1000});
  CHECK(amounts(s, "sandbox-payment", id, "authorize").size() == 1);
  CHECK(s.ledger("sandbox-shipping")[id]["shipment"] == 1);
}

TEST_CASE("refunds of a captured order: partial twice, the same key once, "
          "never more than captured, each exactly once through a kill -9",
          "[orders][capture][refund]") {
  shop s;
  s.add_product("rug", 5);
  auto id = place(s, manual_order("rug", "tok_ok", 2)); // 2000 HUF
  awaiting(s, id);
  // Each refund is sent once: a command that meets its saga as it exits
  // is held by the supervisor and handled by the saga started for it (the
  // passivation handshake), never answered 503 `unanswered`.
  auto refund = [&](int64_t amount, const std::string& key) {
    header_list h;
    if (!key.empty())
      h.emplace_back("Idempotency-Key", key);
    return s.post("/v1/orders/" + id + "/refunds",
                  {{"amount_minor", amount}, {"reason", "damaged"}}, h);
  };
  // Nothing captured yet: not refundable.
  CHECK(refund(100, "early").status == 409);
  REQUIRE(
    s.post("/v1/orders/" + id + "/capture", {{"amount_minor", 1500}}).status
    == 202);
  REQUIRE(finished(s, id)["status"] == "completed");
  // Bad requests change nothing.
  CHECK(refund(100, "").status == 422); // no Idempotency-Key
  CHECK(refund(0, "zero").status == 422);
  auto first = refund(500, "r1");
  INFO(first.body);
  REQUIRE(first.status == 202);
  auto first_id = json::parse(first.body)["id"].get<std::string>();
  CHECK(first_id.rfind("rf_", 0) == 0);
  // The same key: the same refund, not another one.
  auto again = refund(500, "r1");
  CHECK(again.status == 202);
  CHECK(json::parse(again.body)["id"] == first_id);
  CHECK(refund(501, "r1").status == 422); // the key with another amount
  REQUIRE(eventually(
    [&] {
      return s.get("/v1/orders/" + id)["status"] == "completed"
             && s.get("/v1/orders/" + id)["refunded_minor"] == 500;
    },
    20s));
  // The second one while the provider is slow: killed in flight.
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"latency_ms", 3000}}).status
    == 200);
  auto second = refund(600, "r2");
  INFO(second.body);
  REQUIRE(second.status == 202);
  CHECK(s.get("/v1/orders/" + id)["status"] == "refunding");
  REQUIRE(eventually(
    [&] {
      return amounts(s, "sandbox-payment", id, "refund").size() == 2;
    },
    10s));
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  s.post("/v1/providers/sandbox-payment/chaos", json::object());
  REQUIRE(eventually(
    [&] {
      auto o = s.get("/v1/orders/" + id);
      return o["status"] == "completed" && o["refunded_minor"] == 1100;
    },
    30s));
  // 1500 captured, 1100 refunded: 401 is too much, 400 is the rest.
  auto over = refund(401, "r3");
  INFO(over.body);
  CHECK(over.status == 422);
  CHECK(json::parse(over.body)["error"]["code"] == "refund_exceeds_captured");
  CHECK(refund(400, "r4").status == 202);
  REQUIRE(eventually(
    [&] {
      auto o = s.get("/v1/orders/" + id);
      return o["refunded_minor"] == 1500 && o["status"] == "completed";
    },
    20s));
  auto o = s.get("/v1/orders/" + id);
  REQUIRE(o["refunds"].size() == 3);
  for (auto& r : o["refunds"]) {
    CHECK(r["status"] == "succeeded");
    CHECK(r["credit_note"]["status"] == "issued");
  }
  CHECK(amounts(s, "sandbox-payment", id, "refund")
        == std::vector<int64_t>{500, 600, 400});
  // Each refund corrected the invoice once.
  CHECK(amounts(s, "sandbox-invoicing", id, "credit_note")
        == std::vector<int64_t>{500, 600, 400});
  CHECK(refund(1, "r5").status == 422); // all of it refunded
  // A sale order refunds too; a cancelled one does not.
  auto sale = place(s, shop::order("rug", "tok_ok"));
  REQUIRE(finished(s, sale)["status"] == "completed");
  header_list k{{"Idempotency-Key", "sale-1"}};
  CHECK(s.post("/v1/orders/" + sale + "/refunds", {{"amount_minor", 1000}}, k)
          .status
        == 202);
  auto declined = place(s, shop::order("rug", "tok_decline"));
  REQUIRE(finished(s, declined)["status"] == "cancelled");
  CHECK(s.post("/v1/orders/" + declined + "/refunds", {{"amount_minor", 1}}, k)
          .status
        == 409);
  REQUIRE(eventually(
    [&] {
      return s.get("/v1/orders/" + sale)["refunded_minor"] == 1000;
    },
    20s));
}

TEST_CASE("a refund credit note is issued once through a kill -9 while it "
          "is in flight",
          "[capture][refund]") {
  shop s;
  s.add_product("rug", 5);
  auto id = place(s, shop::order("rug", "tok_ok"));
  REQUIRE(finished(s, id)["status"] == "completed");
  REQUIRE(
    s.post("/v1/providers/sandbox-invoicing/chaos", {{"latency_ms", 3000}})
      .status
    == 200);
  header_list k{{"Idempotency-Key", "cn-1"}};
  auto r = s.post("/v1/orders/" + id + "/refunds", {{"amount_minor", 400}}, k);
  INFO(r.body);
  REQUIRE(r.status == 202);
  // The credit note is made when the call arrives; its answer is slow.
  REQUIRE(eventually(
    [&] {
      return amounts(s, "sandbox-invoicing", id, "credit_note").size() == 1;
    },
    15s));
  CHECK(s.get("/v1/orders/" + id)["status"] == "refunding");
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  s.post("/v1/providers/sandbox-invoicing/chaos", json::object());
  REQUIRE(eventually(
    [&] {
      return s.get("/v1/orders/" + id)["status"] == "completed";
    },
    30s));
  auto o = s.get("/v1/orders/" + id);
  REQUIRE(o["refunds"].size() == 1);
  CHECK(o["refunds"][0]["credit_note"]["status"] == "issued");
  CHECK(amounts(s, "sandbox-invoicing", id, "credit_note")
        == std::vector<int64_t>{400});
  CHECK(amounts(s, "sandbox-payment", id, "refund")
        == std::vector<int64_t>{400});
}

TEST_CASE("refunds by line: the lines' value at the order's prices, never "
          "more units than were ordered",
          "[orders][refund]") {
  shop s;
  s.add_product("lamp", 10);  // 1000 HUF each
  s.add_product("shade", 10); // 1000 HUF each
  auto order = shop::order("lamp", "tok_ok", 3);
  order["items"].push_back({{"sku", "shade"}, {"quantity", 1}});
  auto id = place(s, order); // 4000 HUF, paid at once
  REQUIRE(finished(s, id)["status"] == "completed");
  auto refund = [&](const json& body, const std::string& key) {
    return s.post("/v1/orders/" + id + "/refunds", body,
                  {{"Idempotency-Key", key}});
  };
  auto lines = [](const std::string& sku, int64_t quantity) {
    return json::array({{{"sku", sku}, {"quantity", quantity}}});
  };
  // Two lamps back: 2000.
  auto first
    = refund({{"lines", lines("lamp", 2)}, {"reason", "broken"}}, "by-line-1");
  INFO(first.body);
  REQUIRE(first.status == 202);
  auto body = json::parse(first.body);
  CHECK(body["amount_minor"] == 2000);
  CHECK(body["lines"] == lines("lamp", 2));
  // The same key and lines: the same refund.
  auto again
    = refund({{"lines", lines("lamp", 2)}, {"reason", "broken"}}, "by-line-1");
  CHECK(json::parse(again.body)["id"] == body["id"]);
  // Two more lamps: only one is left to give back.
  auto too_many = refund({{"lines", lines("lamp", 2)}}, "by-line-2");
  CHECK(too_many.status == 422);
  CHECK(json::parse(too_many.body)["error"]["field"] == "lines[0].quantity");
  // Not in the order; not a line; an amount above the lines' value.
  CHECK(refund({{"lines", lines("sofa", 1)}}, "by-line-3").status == 422);
  CHECK(
    refund({{"lines", json::array({{{"sku", "lamp"}}})}}, "by-line-4").status
    == 422);
  CHECK(
    refund({{"lines", lines("shade", 1)}, {"amount_minor", 1001}}, "by-line-5")
      .status
    == 422);
  // The shade with a restocking fee kept: 800 of its 1000.
  auto shade = refund({{"lines", lines("shade", 1)}, {"amount_minor", 800}},
                      "by-line-6");
  REQUIRE(shade.status == 202);
  CHECK(json::parse(shade.body)["amount_minor"] == 800);
  // Its key again without the amount asks for all 1000: another request.
  CHECK(refund({{"lines", lines("shade", 1)}}, "by-line-6").status == 422);
  REQUIRE(eventually(
    [&] {
      return s.get("/v1/orders/" + id)["status"] == "completed"
             && s.get("/v1/orders/" + id)["refunded_minor"] == 2800;
    },
    30s));
  auto o = s.get("/v1/orders/" + id);
  INFO(o.dump());
  REQUIRE(o["refunds"].size() == 2);
  CHECK(o["refunds"][0]["lines"] == lines("lamp", 2));
  CHECK(o["refunds"][1]["lines"] == lines("shade", 1));
  auto pay = s.ledger("sandbox-payment")[id];
  CHECK(pay["refund"] == 2);
  // The last lamp is still refundable.
  CHECK(refund({{"lines", lines("lamp", 1)}}, "by-line-7").status == 202);
}
