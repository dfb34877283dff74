// The helpdesk through the API (issue 24): customers, a ticket's whole life
// — opened, assigned, answered by an operator (the answer reaches the
// customer by e-mail through the contact service), answered by the
// customer's e-mail (the inbound webhook), solved, closed — with its events
// in the log under ticket:<id> and customer:<id>.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

const std::string inbound_secret = "inbound-s3cret";

http_reply inbound(shop& s, const json& mail, const std::string& secret) {
  auto body = mail.dump();
  return http_request(
    s.port, "POST", "/v1/webhooks/email",
    {{"Content-Type", "application/json"},
     {"X-Kassa-Signature", kassa::hmac_sha256_hex(secret, body)}},
    body);
}

json ok(const http_reply& r, int status = 200) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body);
}

} // namespace

TEST_CASE("customers are created once and found by a part of their details",
          "[helpdesk]") {
  shop s;
  auto c = ok(s.post("/v1/customers", {{"id", "c-anna"},
                                       {"name", "Kovács Anna"},
                                       {"email", "anna@example.test"},
                                       {"phone", "+36201234567"},
                                       {"locale", "hu"}}),
              201);
  CHECK(c["locale"] == "hu");
  CHECK(s.post("/v1/customers", {{"id", "c-anna"}, {"name", "Other"}}).status
        == 409);
  auto minted = ok(s.post("/v1/customers", {{"name", "Béla"}}), 201);
  CHECK(minted["id"].get<std::string>().rfind("cus_", 0) == 0);
  CHECK(s.get("/v1/customers/c-anna")["email"] == "anna@example.test");
  CHECK(http_get(s.port, "/v1/customers/nobody", with_key()).status == 404);
  auto found = s.get("/v1/customers?q=ANNA@")["customers"];
  REQUIRE(found.size() == 1);
  CHECK(found[0]["id"] == "c-anna");
  CHECK(s.get("/v1/customers?q=%25")["customers"].empty()); // % is literal
  CHECK(s.post("/v1/customers", {{"name", "x"}, {"email", "nope"}}).status
        == 422);
  CHECK(s.post("/v1/customers", {{"name", "x"}, {"phone", "0620"}}).status
        == 422);
  // A customer's locale picks the template's.
  auto m
    = ok(s.post("/v1/messages",
                {{"channel", "email"},
                 {"to", "anna@example.test"},
                 {"customer", "c-anna"},
                 {"template", "order_confirmation"},
                 {"vars",
                  {{"order", "o1"}, {"total", "1.00"}, {"currency", "HUF"}}}}),
         202);
  CHECK(m["locale"] == "hu");
}

TEST_CASE("a ticket's whole life through the API, with an e-mail reply",
          "[helpdesk]") {
  shop s{{"KASSA_CONTACT_INBOUND_SECRET=" + inbound_secret}};
  ok(s.post(
       "/v1/customers",
       {{"id", "c-hd"}, {"name", "Helga"}, {"email", "Helga@Example.test"}}),
     201);
  auto t = ok(s.post("/v1/tickets", {{"customer", "c-hd"},
                                     {"subject", "Broken mug"},
                                     {"body", "The mug arrived broken."},
                                     {"order", "ord_x1"},
                                     {"priority", "high"}}),
              201);
  std::string id = t["id"];
  CHECK(id.rfind("tk_", 0) == 0);
  CHECK(t["status"] == "open");
  CHECK(t["priority"] == "high");
  CHECK(t["order"] == "ord_x1");
  REQUIRE(t["messages"].size() == 1);
  CHECK(s.post("/v1/tickets",
               {{"customer", "nobody"}, {"subject", "x"}, {"body", "x"}})
          .status
        == 422);

  t = ok(s.post("/v1/tickets/" + id + "/assign", {{"assignee", "anna"}}));
  CHECK(t["assignee"] == "anna");
  CHECK(t["priority"] == "high");

  // The operator's answer: pending, and on its way to the customer.
  t = ok(s.post("/v1/tickets/" + id + "/messages",
                {{"body", "Sorry! A new one is on its way."}}));
  CHECK(t["status"] == "pending");
  REQUIRE(t["messages"].size() == 2);
  CHECK(t["messages"][1]["author"] == "operator");
  CHECK(t["messages"][1]["author_name"] == "bootstrap");
  auto reply_id = id + ":reply:2";
  CHECK(t["messages"][1]["message_id"] == reply_id);
  json mail;
  eventually(
    [&] {
      mail = s.get("/v1/messages/" + reply_id);
      return mail["status"] == "sent";
    },
    20s);
  CHECK(mail["status"] == "sent");
  CHECK(mail["to"] == "Helga@Example.test");
  CHECK(mail["subject"] == "Re: Broken mug [" + id + "]");
  CHECK(mail["body"] == "Sorry! A new one is on its way.");
  CHECK(s.ledger("sandbox-messaging")[id]["message"] == 1);

  // The customer answers by e-mail: in the thread, the ticket open again.
  json in{{"from", "Helga <helga@example.test>"},
          {"to", "support@shop.example"},
          {"subject", "Re: Broken mug [" + id + "]"},
          {"text", "Thank you!"},
          {"message_id", "<abc-1@mail.example>"}};
  CHECK(inbound(s, in, "wrong").status == 400);
  t = ok(inbound(s, in, inbound_secret));
  CHECK(t["status"] == "open");
  REQUIRE(t["messages"].size() == 3);
  CHECK(t["messages"][2]["author"] == "customer");
  CHECK(t["messages"][2]["channel"] == "email");
  CHECK(t["messages"][2]["body"] == "Thank you!");
  // The same e-mail again adds nothing; a stranger's is not taken; one
  // that names no ticket neither.
  CHECK(ok(inbound(s, in, inbound_secret))["messages"].size() == 3);
  in["from"] = "mallory@example.test";
  in["message_id"] = "<abc-2@mail.example>";
  CHECK(ok(inbound(s, in, inbound_secret))["result"] == "not_the_customer");
  in["subject"] = "Hello";
  CHECK(ok(inbound(s, in, inbound_secret))["result"] == "no_ticket");
  // The In-Reply-To of the operator's e-mail finds the ticket too.
  json threaded{
    {"from", "helga@example.test"},
    {"subject", "Re: your mail"},
    {"text", "One more thing."},
    {"message_id", "<abc-3@mail.example>"},
    {"in_reply_to", mail["provider_ref"].is_string()
                      ? std::string{"<"} + id + "=3Areply=3A2@kassa.localhost>"
                      : std::string{}}};
  CHECK(ok(inbound(s, threaded, inbound_secret))["messages"].size() == 4);

  t = ok(s.post("/v1/tickets/" + id + "/status", {{"status", "solved"}}));
  CHECK(t["status"] == "solved");
  t = ok(s.post("/v1/tickets/" + id + "/status", {{"status", "closed"}}));
  CHECK(t["status"] == "closed");
  auto refused = s.post("/v1/tickets/" + id + "/messages", {{"body", "x"}});
  CHECK(refused.status == 409);
  CHECK(json::parse(refused.body)["error"]["code"] == "ticket_state");
  CHECK(s.post("/v1/tickets/" + id + "/status", {{"status", "open"}}).status
        == 409);
  CHECK(s.post("/v1/tickets/" + id + "/status", {{"status", "done"}}).status
        == 422);
  CHECK(http_get(s.port, "/v1/tickets/tk_0000000000000000", with_key()).status
        == 404);

  auto listed = s.get("/v1/tickets?customer=c-hd")["tickets"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["status"] == "closed");
  CHECK(s.get("/v1/tickets?status=open")["tickets"].empty());

  // Every change is in the log, under the ticket's and the customer's topic.
  std::vector<std::string> types;
  auto log = s.get("/v1/events?topic=ticket:" + id); // a local: iterated
  for (auto& e : log["events"]) {
    CHECK(e["topic"] == "ticket:" + id);
    types.push_back(e["event"]);
  }
  CHECK(types
        == std::vector<std::string>{
          "ticket.created", "ticket.message", "ticket.assigned",
          "ticket.message", "ticket.status", "ticket.message", "ticket.status",
          "ticket.message", "ticket.status", "ticket.status"});
  CHECK(s.get("/v1/events?topic=customer:c-hd")["events"].size()
        == types.size());
  CHECK(s.get("/v1/events?topic=orders")["events"].empty());
}
