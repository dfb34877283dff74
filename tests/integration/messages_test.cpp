// The contact service through the API (issue 24): messages stored once by
// id, sent through the channel's sandbox providers, failed over, templates
// in two locales, opt-outs, and the order confirmation a saga sends.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

json send(shop& s, const json& body, int expect = 202) {
  auto r = s.post("/v1/messages", body);
  INFO(body.dump() << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect);
  return json::parse(r.body);
}

} // namespace

TEST_CASE("a message is sent once, however often it is posted", "[messages]") {
  shop s;
  json body{{"id", "welcome-c1"},      {"channel", "email"},
            {"to", "c1@example.test"}, {"about", "t-once"},
            {"subject", "Welcome"},    {"body", "Hello!"}};
  auto first = send(s, body);
  CHECK(first["id"] == "welcome-c1");
  auto m = message_settled(s, "welcome-c1");
  CHECK(m["status"] == "sent");
  CHECK(m["provider"] == "sandbox-messaging");
  REQUIRE(m["attempts"].size() == 1);
  CHECK(m["attempts"][0]["outcome"] == "ok");
  // Again, and again with another body: the first message answers, nothing
  // is sent.
  auto again = send(s, body);
  CHECK(again["status"] == "sent");
  body["body"] = "Something else";
  again = send(s, body);
  CHECK(again["body"] == "Hello!");
  std::this_thread::sleep_for(300ms);
  CHECK(s.ledger("sandbox-messaging")["t-once"]["message"] == 1);
  // An id minted by the node when none is given.
  auto minted = send(s, {{"channel", "sms"},
                         {"to", "+36201234567"},
                         {"body", "Your code is 1234"}});
  CHECK(minted["id"].get<std::string>().rfind("msg_", 0) == 0);
  CHECK(message_settled(s, minted["id"])["status"] == "sent");
  auto none = http_get(s.port, "/v1/messages/nope", with_key());
  CHECK(none.status == 404);
  CHECK(json::parse(none.body)["error"]["code"] == "message_not_found");
}

TEST_CASE("a template renders in the locale asked for, versioned",
          "[messages]") {
  shop s;
  json vars{{"order", "ord_9"}, {"total", "15.00"}, {"currency", "HUF"}};
  auto hu = send(s, {{"channel", "email"},
                     {"to", "c2@example.test"},
                     {"template", "order_confirmation"},
                     {"locale", "hu"},
                     {"vars", vars}});
  CHECK(hu["subject"] == "Rendelésed (ord_9) visszaigazoltuk");
  CHECK(
    hu["body"]
    == "Köszönjük a rendelésed!\n\nRendelés: ord_9\nVégösszeg: 15.00 HUF\n");
  CHECK(hu["locale"] == "hu");
  CHECK(hu["template_version"] == 1);
  auto en = send(s, {{"channel", "email"},
                     {"to", "c2@example.test"},
                     {"template", "order_confirmation"},
                     {"locale", "en"},
                     {"vars", vars}});
  CHECK(en["subject"] == "Your order ord_9 is confirmed");
  // A new version is used from now on; the old message keeps its text.
  auto v2 = s.post("/v1/templates", {{"name", "order_confirmation"},
                                     {"locale", "en"},
                                     {"subject", "Order {{order}}: thanks!"},
                                     {"body", "Total {{total}} {{currency}}"}});
  REQUIRE(v2.status == 201);
  CHECK(json::parse(v2.body)["version"] == 2);
  auto en2 = send(s, {{"channel", "email"},
                      {"to", "c2@example.test"},
                      {"template", "order_confirmation"},
                      {"locale", "en"},
                      {"vars", vars}});
  CHECK(en2["subject"] == "Order ord_9: thanks!");
  CHECK(en2["template_version"] == 2);
  CHECK(s.get("/v1/messages/" + en["id"].get<std::string>())["subject"]
        == "Your order ord_9 is confirmed");
  auto versions = s.get("/v1/templates/order_confirmation")["versions"];
  CHECK(versions.size() == 3); // en 2, en 1, hu 1
  // What cannot be rendered is refused, naming the field.
  auto missing = s.post("/v1/messages", {{"channel", "email"},
                                         {"to", "c2@example.test"},
                                         {"template", "order_confirmation"},
                                         {"locale", "hu"},
                                         {"vars", {{"order", "x"}}}});
  CHECK(missing.status == 422);
  CHECK(json::parse(missing.body)["error"]["field"] == "vars");
  CHECK(json::parse(missing.body)["error"]["message"]
        == "template order_confirmation needs vars: total currency");
  auto unknown = s.post(
    "/v1/messages",
    {{"channel", "email"}, {"to", "c2@example.test"}, {"template", "nope"}});
  CHECK(unknown.status == 422);
  CHECK(json::parse(unknown.body)["error"]["field"] == "template");
  CHECK(http_get(s.port, "/v1/templates/nope", with_key()).status == 404);
}

TEST_CASE("bad messages are refused with the field at fault", "[messages]") {
  shop s;
  auto field_of = [&](const json& body) {
    auto r = s.post("/v1/messages", body);
    INFO(r.body);
    CHECK(r.status == 422);
    return json::parse(r.body)["error"]["field"].get<std::string>();
  };
  CHECK(field_of({{"channel", "fax"}, {"to", "x"}, {"body", "b"}})
        == "channel");
  CHECK(field_of({{"channel", "sms"}, {"to", "0620123"}, {"body", "b"}})
        == "to");
  CHECK(
    field_of(
      {{"channel", "email"}, {"to", "a@b@c"}, {"body", "b"}, {"subject", "s"}})
    == "to");
  CHECK(field_of({{"channel", "email"}, {"to", "a@b.test"}, {"body", "b"}})
        == "subject");
  CHECK(field_of({{"channel", "email"},
                  {"to", "a@b.test"},
                  {"body", "b"},
                  {"subject", "two\nlines"}})
        == "subject");
  CHECK(field_of({{"id", "a b"},
                  {"channel", "sms"},
                  {"to", "+36201234567"},
                  {"body", "b"}})
        == "id");
  CHECK(field_of({{"channel", "sms"},
                  {"to", "+36201234567"},
                  {"body", "b"},
                  {"template", "order_confirmation"}})
        == "template");
  CHECK(
    field_of(
      {{"channel", "sms"}, {"to", "+36201234567"}, {"body", "b"}, {"cc", "x"}})
    == "cc");
}

TEST_CASE("an opted-out customer gets nothing on that channel", "[messages]") {
  shop s;
  auto r = s.post("/v1/customers/c9/opt_outs", {{"channel", "sms"}});
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["opted_out"] == json::array({"sms"}));
  auto sms = send(s, {{"channel", "sms"},
                      {"to", "+36201234567"},
                      {"customer", "c9"},
                      {"about", "t-optout"},
                      {"body", "Sale!"}});
  CHECK(sms["status"] == "suppressed");
  auto mail = send(s, {{"channel", "email"},
                       {"to", "c9@example.test"},
                       {"customer", "c9"},
                       {"about", "t-optout"},
                       {"subject", "Receipt"},
                       {"body", "Thanks"}});
  CHECK(message_settled(s, mail["id"])["status"] == "sent");
  std::this_thread::sleep_for(500ms);
  CHECK(s.get("/v1/messages/" + sms["id"].get<std::string>())["status"]
        == "suppressed");
  CHECK(s.ledger("sandbox-sms")["t-optout"]["message"] == 0);
  CHECK(s.ledger("sandbox-sms-2")["t-optout"]["message"] == 0);
  CHECK(s.ledger("sandbox-messaging")["t-optout"]["message"] == 1);
  // Opted in again: sent.
  r = s.post("/v1/customers/c9/opt_outs",
             {{"channel", "sms"}, {"opted_out", false}});
  CHECK(json::parse(r.body)["opted_out"].empty());
  auto later = send(s, {{"channel", "sms"},
                        {"to", "+36201234567"},
                        {"customer", "c9"},
                        {"about", "t-optout"},
                        {"body", "Sale!"}});
  CHECK(message_settled(s, later["id"])["status"] == "sent");
}

TEST_CASE("the first SMS provider in an outage: the second sends, once",
          "[messages]") {
  shop s;
  REQUIRE(s.post("/v1/providers/sandbox-sms/chaos", {{"outage", true}}).status
          == 200);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(send(s, {{"channel", "sms"},
                           {"to", "+36201234567"},
                           {"about", "t-failover"},
                           {"body", "Code " + std::to_string(i)}})["id"]);
  for (auto& id : ids) {
    auto m = message_settled(s, id);
    INFO(m.dump());
    CHECK(m["status"] == "sent");
    CHECK(m["provider"] == "sandbox-sms-2");
    // The first provider's refusal is on record, then the second's yes.
    REQUIRE(m["attempts"].size() >= 2);
    CHECK(m["attempts"][0]["provider"] == "sandbox-sms");
    CHECK(m["attempts"].back()["provider"] == "sandbox-sms-2");
    CHECK(m["attempts"].back()["outcome"] == "ok");
  }
  CHECK(s.ledger("sandbox-sms")["t-failover"]["message"] == 0);
  CHECK(s.ledger("sandbox-sms-2")["t-failover"]["message"] == 5);
}

TEST_CASE("an order's confirmation goes through the contact service",
          "[messages]") {
  shop s;
  s.add_product("mug", 10);
  auto r = s.post("/v1/orders", shop::order("mug", "tok_ok", 1));
  REQUIRE(r.status == 202);
  std::string id = json::parse(r.body)["id"];
  s.wait_for(id, [](const json& o) {
    return o["status"] == "completed";
  });
  auto m = message_settled(s, id + ":notify_customer");
  CHECK(m["status"] == "sent");
  CHECK(m["template"] == "order_confirmation");
  CHECK(m["about"] == id);
  CHECK(m["subject"] == "Your order " + id + " is confirmed");
  CHECK(s.ledger("sandbox-messaging")[id]["message"] == 1);
}

TEST_CASE("an order's confirmation to a customer who opted out of e-mail is "
          "recorded and not sent",
          "[messages]") {
  shop s;
  s.add_product("mug", 10);
  REQUIRE(s.post("/v1/customers/c1/opt_outs", {{"channel", "email"}}).status
          == 200);
  auto r = s.post("/v1/orders", shop::order("mug", "tok_ok", 1));
  REQUIRE(r.status == 202);
  std::string id = json::parse(r.body)["id"];
  auto o = s.wait_for(id, [](const json& o) {
    return o["status"] == "completed";
  });
  CHECK(o["status"] == "completed");
  auto m = message_settled(s, id + ":notify_customer");
  CHECK(m["status"] == "suppressed");
  CHECK(m["attempts"].empty());
  CHECK(s.ledger("sandbox-messaging")[id]["message"] == 0);
}
