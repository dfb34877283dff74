#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_pricing.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

price_list prices() {
  return {
    {"mug", {2490, "EUR"}}, {"cup", {990, "EUR"}}, {"hat", {5000, "HUF"}}};
}

} // namespace

TEST_CASE("an order is priced line by line into its total and currency",
          "[pricing]") {
  auto request = json::parse(
    R"({"items":[{"sku":"mug","quantity":2},{"sku":"cup","quantity":3}]})");
  REQUIRE_FALSE(price_order(request, prices()));
  CHECK(request["items"][0]["unit_price_minor"] == 2490);
  CHECK(request["items"][1]["unit_price_minor"] == 990);
  CHECK(request["total_minor"] == 2 * 2490 + 3 * 990);
  CHECK(request["currency"] == "EUR");
  // Priced again (a batch run a second time): the same values.
  auto again = request;
  REQUIRE_FALSE(price_order(again, prices()));
  CHECK(again == request);
}

TEST_CASE("an order with an unknown SKU or two currencies names the item",
          "[pricing]") {
  auto unknown = json::parse(
    R"({"items":[{"sku":"mug","quantity":1},{"sku":"plate","quantity":1}]})");
  auto refused = price_order(unknown, prices());
  REQUIRE(refused);
  CHECK(refused->item == 1);
  CHECK(refused->why == "no product plate");
  auto mixed = json::parse(
    R"({"items":[{"sku":"mug","quantity":1},{"sku":"hat","quantity":1}]})");
  refused = price_order(mixed, prices());
  REQUIRE(refused);
  CHECK(refused->item == 1);
  CHECK(refused->why == "all items must share one currency");
}

TEST_CASE("order ids are ord_ + 12 hex digits of milliseconds + 8 random, "
          "and sort by creation time",
          "[pricing][ids]") {
  using namespace std::chrono;
  system_clock::time_point t{milliseconds{0x18c2a1b3c4dLL}};
  auto id = new_order_id(t, 0xdeadbeef);
  CHECK(id == "ord_018c2a1b3c4ddeadbeef");
  CHECK(std::regex_match(new_order_id(system_clock::now(), 7),
                         std::regex{"ord_[0-9a-f]{20}"}));
  // Later milliseconds sort later whatever the random part.
  CHECK(new_order_id(t, 0xffffffff) < new_order_id(t + 1ms, 0));
  CHECK(new_order_id(t, 1) != new_order_id(t, 2));
}
