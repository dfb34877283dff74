// Disputes end to end (issue 21): a sandbox chargeback token's payment is
// disputed, its funds withdrawn and the dispute lost; a dispute opens only
// once an authorization is captured; Stripe's signed dispute webhooks find
// the order by its payment, Adyen's by its merchant reference; a repeated
// one changes nothing, a badly signed one is refused. Real node, real
// PostgreSQL; the order's journal and GET /v1/disputes are what is checked.

#include <ctime>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "support/adyen_notification.hpp"
#include "support/shop.hpp"

using namespace kassa::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string secret = "whsec_kassa_test";

std::string place(shop& s, const json& order) {
  auto r = s.post("/v1/orders", order);
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 202);
  return json::parse(r.body)["id"].get<std::string>();
}

/// The types of the order's dispute events, in journal order.
std::vector<std::string> dispute_events(shop& s, const std::string& id) {
  auto events = s.get("/v1/orders/" + id + "/events");
  std::vector<std::string> out;
  for (auto& e : events["events"]) {
    auto type = e["type"].get<std::string>();
    if (type.rfind("dispute.", 0) == 0)
      out.push_back(type);
  }
  return out;
}

json dispute_of(const json& order) {
  return order["disputes"].empty() ? json::object() : order["disputes"][0];
}

http_reply deliver(shop& s, const std::string& body) {
  auto ts = std::to_string(std::time(nullptr));
  auto sig = kassa::hmac_sha256_hex(secret, ts + "." + body);
  return http_request(s.port, "POST", "/v1/webhooks/stripe",
                      {{"Content-Type", "application/json"},
                       {"Stripe-Signature", "t=" + ts + ",v1=" + sig}},
                      body);
}

std::string stripe_dispute(const std::string& event_id, const std::string& type,
                           const std::string& payment_intent,
                           const std::string& status) {
  return json{{"id", event_id},
              {"object", "event"},
              {"type", type},
              {"data",
               {{"object",
                 {{"id", "dp_stripe_1"},
                  {"object", "dispute"},
                  {"amount", 1000},
                  {"currency", "huf"},
                  {"charge", "ch_1"},
                  {"payment_intent", payment_intent},
                  {"reason", "product_not_received"},
                  {"status", status},
                  {"evidence_details", {{"due_by", 1798761600}}},
                  {"metadata", json::object()}}}}}}
    .dump();
}

std::string result_of(const http_reply& r) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body)["result"].get<std::string>();
}

} // namespace

TEST_CASE("a sandbox chargeback opens a dispute, withdraws the funds and is "
          "lost",
          "[disputes]") {
  shop s;
  s.add_product("scarf", 5);
  auto id = place(s, shop::order("scarf", "tok_chargeback"));
  // The notices come as the processor sends them, maybe while the saga
  // still runs its last steps: they change the dispute, not the order.
  auto o = s.wait_for(
    id,
    [](const json& o) {
      return dispute_of(o).value("status", "") == "lost"
             && o["status"] == "completed";
    },
    20s);
  INFO(o.dump());
  CHECK(o["status"] == "completed");
  auto d = dispute_of(o);
  REQUIRE(d.is_object());
  CHECK(d["status"] == "lost");
  CHECK(d["processor"] == "sandbox");
  CHECK(d["amount_minor"] == 1000);
  CHECK(d["withdrawn_minor"] == 1000);
  CHECK(d["reinstated_minor"] == 0);
  CHECK(d["payment_ref"] == o["payment"]["id"]);
  CHECK(dispute_events(s, id)
        == std::vector<std::string>{"dispute.opened", "dispute.funds_withdrawn",
                                    "dispute.lost"});

  auto lost = s.get("/v1/disputes?status=lost");
  REQUIRE(lost["disputes"].size() == 1);
  CHECK(lost["disputes"][0]["order_id"] == id);
  CHECK(lost["disputes"][0]["last_event"] == "dispute.lost");
  CHECK(s.get("/v1/disputes?status=open")["disputes"].empty());
  CHECK(s.get("/v1/disputes?order_id=" + id)["disputes"].size() == 1);
  auto bad = http_get(s.port, "/v1/disputes?status=closed", with_key());
  CHECK(bad.status == 422);
  auto bad_limit = http_get(s.port, "/v1/disputes?limit=0", with_key());
  CHECK(bad_limit.status == 422);
}

TEST_CASE("a dispute token's authorization is disputed only once captured",
          "[disputes]") {
  shop s;
  s.add_product("scarf", 5);
  auto order = shop::order("scarf", "tok_dispute");
  order["capture"] = "manual";
  auto id = place(s, order);
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "awaiting_capture";
  });
  REQUIRE(o["status"] == "awaiting_capture");
  CHECK(o["disputes"].empty());
  auto r = s.post("/v1/orders/" + id + "/capture", {{"amount_minor", 600}});
  REQUIRE(r.status == 202);
  o = s.wait_for(
    id,
    [](const json& o) {
      return !o["disputes"].empty();
    },
    20s);
  auto d = dispute_of(o);
  REQUIRE(d.is_object());
  CHECK(d["status"] == "needs_response");
  CHECK(d["amount_minor"] == 600); // what was captured
  CHECK(s.get("/v1/disputes?status=open")["disputes"].size() == 1);
  REQUIRE(s.settle(30s));
  CHECK(dispute_events(s, id) == std::vector<std::string>{"dispute.opened"});
}

TEST_CASE("Stripe dispute webhooks find the order by its payment and a repeat "
          "changes nothing",
          "[disputes][webhooks]") {
  shop s{{"KASSA_STRIPE_WEBHOOK_SECRET=" + secret}};
  s.add_product("scarf", 5);
  auto id = place(s, shop::order("scarf", "tok_ok"));
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "completed";
  });
  REQUIRE(o["status"] == "completed");
  auto pi = o["payment"]["id"].get<std::string>();

  auto created
    = stripe_dispute("evt_d1", "charge.dispute.created", pi, "needs_response");
  CHECK(result_of(deliver(s, created)) == "recorded");
  // Stripe did not see the 200 and sends it again: nothing changes.
  CHECK(result_of(deliver(s, created)) == "duplicate");
  o = s.get("/v1/orders/" + id);
  auto d = dispute_of(o);
  REQUIRE(d.is_object());
  CHECK(d["id"] == "dp_stripe_1");
  CHECK(d["processor"] == "stripe");
  CHECK(d["currency"] == "HUF");
  CHECK(d["reason"] == "product_not_received");
  CHECK(d["due_by"] == "2027-01-01T00:00:00Z");
  CHECK(dispute_events(s, id) == std::vector<std::string>{"dispute.opened"});

  CHECK(result_of(deliver(s, stripe_dispute("evt_d2", "charge.dispute.updated",
                                            pi, "under_review")))
        == "recorded");
  CHECK(dispute_of(s.get("/v1/orders/" + id))["status"] == "under_review");
  CHECK(result_of(deliver(
          s, stripe_dispute("evt_d3", "charge.dispute.closed", pi, "won")))
        == "recorded");
  CHECK(dispute_of(s.get("/v1/orders/" + id))["status"] == "won");
  CHECK(result_of(deliver(
          s, stripe_dispute("evt_d3", "charge.dispute.closed", pi, "won")))
        == "duplicate");
  CHECK(dispute_events(s, id)
        == std::vector<std::string>{"dispute.opened", "dispute.updated",
                                    "dispute.won"});

  // A payment kassa does not know: answered, recorded nowhere.
  CHECK(result_of(deliver(s, stripe_dispute("evt_d4", "charge.dispute.created",
                                            "pi_unknown", "needs_response")))
        == "order_not_found");
  // A forged one is refused before anything is read.
  auto ts = std::to_string(std::time(nullptr));
  auto forged = http_request(
    s.port, "POST", "/v1/webhooks/stripe",
    {{"Content-Type", "application/json"},
     {"Stripe-Signature",
      "t=" + ts + ",v1=" + kassa::hmac_sha256_hex("whsec_other", ts + ".x")}},
    stripe_dispute("evt_d5", "charge.dispute.closed", pi, "lost"));
  CHECK(forged.status == 400);
  CHECK(dispute_of(s.get("/v1/orders/" + id))["status"] == "won");
  auto listed = s.get("/v1/disputes?status=won");
  REQUIRE(listed["disputes"].size() == 1);
  CHECK(listed["disputes"][0]["order_id"] == id);
}

namespace {

http_reply adyen(shop& s, const std::string& body) {
  return post_adyen_webhook(s.port, body);
}

} // namespace

TEST_CASE("Adyen chargeback webhooks are verified and recorded on the order "
          "once",
          "[disputes][webhooks]") {
  shop s{{"KASSA_ADYEN_HMAC_KEY=" + adyen_key_hex}};
  s.add_product("scarf", 5);
  auto id = place(s, shop::order("scarf", "tok_ok"));
  REQUIRE(s.wait_for(id,
                     [](const json& o) {
                       return o["status"] == "completed";
                     })["status"]
          == "completed");

  // Signed with another key, or changed after signing: refused.
  auto wrong = adyen(s, adyen_notification("NOTIFICATION_OF_CHARGEBACK", id,
                                           std::string(64, 'A')));
  CHECK(wrong.status == 400);
  CHECK(json::parse(wrong.body)["error"]["code"] == "invalid_signature");
  auto body
    = adyen_notification("NOTIFICATION_OF_CHARGEBACK", id, adyen_key_hex);
  auto tampered = body;
  tampered.replace(tampered.find("\"value\":1000"), 12, "\"value\":9000");
  CHECK(adyen(s, tampered).status == 400);
  CHECK(s.get("/v1/orders/" + id)["disputes"].empty());

  auto first = adyen(s, body);
  INFO(first.body);
  CHECK(first.status == 200);
  CHECK(first.body == "[accepted]");
  CHECK(adyen(s, body).status == 200); // delivered again: nothing changes
  auto withdrawn
    = adyen(s, adyen_notification("CHARGEBACK", id, adyen_key_hex));
  CHECK(withdrawn.status == 200);
  auto d = dispute_of(s.get("/v1/orders/" + id));
  CHECK(d["processor"] == "adyen");
  CHECK(d["id"] == "9915555555555555");
  CHECK(d["payment_ref"] == "8815555555555555");
  CHECK(d["status"] == "needs_response");
  CHECK(d["withdrawn_minor"] == 1000);
  CHECK(
    dispute_events(s, id)
    == std::vector<std::string>{"dispute.opened", "dispute.funds_withdrawn"});
  // Other events are accepted and change nothing.
  CHECK(adyen(s, adyen_notification("AUTHORISATION", id, adyen_key_hex)).status
        == 200);
  CHECK(dispute_events(s, id).size() == 2);
}

TEST_CASE("without adyen.hmac_key the Adyen endpoint is not there",
          "[webhooks]") {
  shop s;
  CHECK(
    adyen(s, adyen_notification("CHARGEBACK", "ord_x", adyen_key_hex)).status
    == 404);
}
