// The member area's rule (issue 24): a request made with a customer token
// reads and changes that customer's data only. Every route a customer
// token may call (support/member_routes.hpp — the router and the OpenAPI
// document are checked against the same list) is called with customer A's
// token and customer B's ids: each answers 403 or 404 and B's data is
// unchanged; the routes no customer token may call answer 403.

#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/member_routes.hpp"
#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

http_reply call(uint16_t port, const std::string& method,
                const std::string& path, const std::string& token,
                const json& body = nullptr) {
  header_list h{{"Authorization", "Bearer " + token}};
  if (!body.is_null())
    h.emplace_back("Content-Type", "application/json");
  return http_request(port, method, path, h, body.is_null() ? "" : body.dump());
}

json created(const http_reply& r) {
  INFO(r.status << " " << r.body);
  REQUIRE((r.status == 201 || r.status == 202 || r.status == 200));
  return json::parse(r.body);
}

} // namespace

TEST_CASE("a customer token reaches no other customer's data on any "
          "member-area route",
          "[member]") {
  shop s{{"KASSA_WS_CUSTOMER_TOKEN_SECRET=member-secret"}};
  s.add_product("mug", 50);
  for (auto id : {"c-a", "c-b"})
    created(
      s.post("/v1/customers", {{"id", id},
                               {"name", id},
                               {"email", std::string{id} + "@example.test"}}));
  // B's order, subscription and ticket.
  auto order = shop::order("mug", "tok_ok");
  order["customer"]["id"] = "c-b";
  std::string b_order = created(s.post("/v1/orders", order))["id"];
  created(s.post("/v1/plans", {{"id", "monthly"},
                               {"name", "Monthly"},
                               {"amount_minor", 2990},
                               {"currency", "EUR"},
                               {"interval", "month"}}));
  std::string b_sub = created(s.post(
    "/v1/subscriptions",
    {{"customer", {{"id", "c-b"}, {"email", "c-b@example.test"}}},
     {"plan", "monthly"},
     {"payment", {{"provider", "sandbox"}, {"token", "tok_ok"}}}}))["id"];
  std::string b_ticket = created(s.post(
    "/v1/tickets",
    {{"customer", "c-b"}, {"subject", "B's"}, {"body", "B's problem"}}))["id"];
  s.wait_for(b_order, [](const json& o) {
    return o["status"] == "completed";
  });

  auto tokens = created(s.post("/v1/customers/c-a/token", json::object()));
  std::string a = tokens["token"];
  CHECK(tokens["customer"] == "c-a");
  CHECK(s.post("/v1/customers/nobody/token", json::object()).status == 404);

  // Each member route, called by A with B's ids.
  std::map<std::string, std::function<http_reply()>> walk{
    {"get /v1/whoami",
     [&] {
       // Nothing to ask for: it must say A, and nothing else.
       auto r = call(s.port, "GET", "/v1/whoami", a);
       CHECK(json::parse(r.body)["customer"] == "c-a");
       return http_reply{404, {}, "{}"};
     }},
    {"get /v1/customers/{id}",
     [&] {
       return call(s.port, "GET", "/v1/customers/c-b", a);
     }},
    {"get /v1/orders",
     [&] {
       return call(s.port, "GET", "/v1/orders?customer=c-b", a);
     }},
    {"get /v1/orders/{id}",
     [&] {
       return call(s.port, "GET", "/v1/orders/" + b_order, a);
     }},
    {"get /v1/subscriptions",
     [&] {
       return call(s.port, "GET", "/v1/subscriptions?customer=c-b", a);
     }},
    {"get /v1/subscriptions/{id}",
     [&] {
       return call(s.port, "GET", "/v1/subscriptions/" + b_sub, a);
     }},
    {"post /v1/subscriptions/{id}/cancel",
     [&] {
       return call(s.port, "POST", "/v1/subscriptions/" + b_sub + "/cancel", a);
     }},
    {"get /v1/tickets",
     [&] {
       return call(s.port, "GET", "/v1/tickets?customer=c-b", a);
     }},
    {"post /v1/tickets",
     [&] {
       return call(s.port, "POST", "/v1/tickets", a,
                   {{"customer", "c-b"}, {"subject", "x"}, {"body", "x"}});
     }},
    {"get /v1/tickets/{id}",
     [&] {
       return call(s.port, "GET", "/v1/tickets/" + b_ticket, a);
     }},
    {"post /v1/tickets/{id}/messages",
     [&] {
       return call(s.port, "POST", "/v1/tickets/" + b_ticket + "/messages", a,
                   {{"body", "not yours"}});
     }},
  };
  for (auto& route : member_routes()) {
    INFO(route);
    REQUIRE(walk.count(route) == 1); // a new member route needs its case
    auto r = walk[route]();
    INFO(r.status << " " << r.body);
    CHECK((r.status == 403 || r.status == 404));
    CHECK(r.body.find("c-b@") == std::string::npos);
    CHECK(r.body.find("B's") == std::string::npos);
  }
  // B's data is as it was.
  CHECK(s.get("/v1/subscriptions/" + b_sub)["status"] != "canceled");
  CHECK(s.get("/v1/tickets/" + b_ticket)["messages"].size() == 1);
  CHECK(s.get("/v1/tickets?customer=c-b")["tickets"].size() == 1);

  // Routes no customer token may call: 403.
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
         {"GET", "/v1/customers?q=c"},
         {"GET", "/v1/products"},
         {"GET", "/v1/events"},
         {"GET", "/v1/messages/x"},
         {"GET", "/v1/orders/" + b_order + "/events"},
         {"POST", "/v1/orders/" + b_order + "/cancel"},
         {"POST", "/v1/tickets/" + b_ticket + "/status"},
         {"POST", "/v1/customers/c-a/token"}}) {
    INFO(method << " " << path);
    CHECK(call(s.port, method, path, a,
               method == "POST" ? json::object() : json(nullptr))
            .status
          == 403);
  }

  // A's own data answers.
  CHECK(call(s.port, "GET", "/v1/customers/c-a", a).status == 200);
  auto mine = created(call(s.port, "POST", "/v1/tickets", a,
                           {{"subject", "Mine"}, {"body", "Help"}}));
  CHECK(mine["customer"] == "c-a");
  CHECK(mine["messages"][0]["author"] == "customer");
  CHECK(mine["messages"][0]["channel"] == "web");
  auto listed = json::parse(call(s.port, "GET", "/v1/tickets", a).body);
  REQUIRE(listed["tickets"].size() == 1);
  CHECK(listed["tickets"][0]["id"] == mine["id"]);
  CHECK(
    json::parse(call(s.port, "GET", "/v1/orders", a).body)["orders"].empty());
  // An expired or forged token is no key at all.
  CHECK(call(s.port, "GET", "/v1/whoami", a + "0").status == 401);
}
