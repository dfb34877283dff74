#include <catch2/catch.hpp>

#include "adapters/http/router.hpp"

using namespace kassa;

namespace {

router make() {
  router r;
  auto nop = [](api_request&, responder_ptr) {};
  r.add({"GET", "/v1/orders", "orders.list", {}, nop});
  r.add({"POST", "/v1/orders", "orders.create", {}, nop});
  r.add({"GET", "/v1/orders/{id}", "orders.get", {}, nop});
  r.add({"POST", "/v1/orders/{id}/cancel", "orders.cancel", {}, nop});
  r.add({"GET", "/healthz", "healthz", {}, nop});
  return r;
}

} // namespace

TEST_CASE("router matches literal and parameter segments", "[router]") {
  auto r = make();
  auto m = r.match("GET", "/v1/orders/ord_42");
  REQUIRE(m.found != nullptr);
  CHECK(m.found->name == "orders.get");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0]
        == std::make_pair(std::string{"id"}, std::string{"ord_42"}));
  m = r.match("POST", "/v1/orders/ord_42/cancel");
  REQUIRE(m.found != nullptr);
  CHECK(m.found->name == "orders.cancel");
  CHECK(r.match("POST", "/v1/orders").found->name == "orders.create");
  CHECK(r.match("GET", "/healthz").found->name == "healthz");
}

TEST_CASE("router distinguishes 404 from 405", "[router]") {
  auto r = make();
  auto m = r.match("DELETE", "/v1/orders");
  CHECK(m.found == nullptr);
  CHECK(m.allowed == std::vector<std::string>{"GET", "POST"});
  m = r.match("GET", "/v1/nothing");
  CHECK(m.found == nullptr);
  CHECK(m.allowed.empty());
  // Length must match exactly; empty parameters do not match.
  CHECK(r.match("GET", "/v1/orders/a/b").found == nullptr);
  CHECK(r.match("GET", "/v1/orders/").found == nullptr);
  CHECK(r.match("GET", "/healthz/").found == nullptr);
}
