// Every reservation decision of the inventory, without a database: the
// store only loads the rows, runs these and writes what changed.

#include <catch2/catch.hpp>

#include "actors/reservations.hpp"

using namespace kassa;

namespace {

provider_call call(std::string op, std::string order,
                   std::vector<order_line> lines = {}) {
  provider_call c;
  c.message_id = order + ":" + op + ":1";
  c.op = std::move(op);
  c.order_id = std::move(order);
  c.lines = std::move(lines);
  return c;
}

struct rows {
  stock_rows products{{"mug", {10, 2, false}}, {"cup", {3, 0, false}}};
  reservation_rows held;
};

} // namespace

TEST_CASE("a reservation takes unreserved stock of every line, repeats "
          "summed, and answers the order as its ref",
          "[reservations]") {
  rows r;
  auto result = decide_reservation(
    call("reserve", "ord_1", {{"mug", 3}, {"cup", 1}, {"mug", 2}}), r.products,
    r.held);
  CHECK(result.outcome == provider_outcome::ok);
  CHECK(result.ref == "ord_1");
  CHECK(result.message_id == "ord_1:reserve:1");
  CHECK(r.products["mug"].reserved == 7);
  CHECK(r.products["mug"].stock == 10);
  CHECK(r.products["mug"].changed);
  CHECK(r.products["cup"].reserved == 1);
  REQUIRE(r.held.size() == 2);
  auto& mug = r.held[{"ord_1", "mug"}];
  CHECK(mug.quantity == 5);
  CHECK(mug.status == "held");
  CHECK(mug.is_new);
  CHECK(mug.changed);
}

TEST_CASE("a reservation that does not fit changes nothing, even for the "
          "lines that would have",
          "[reservations]") {
  rows r;
  auto before = r.products;
  // mug fits (8 free), cup does not (3 free).
  auto short_stock = decide_reservation(
    call("reserve", "ord_1", {{"mug", 1}, {"cup", 4}}), r.products, r.held);
  CHECK(short_stock.outcome == provider_outcome::permanent);
  CHECK(short_stock.error == "insufficient_stock: not enough cup");
  CHECK(short_stock.ref.empty());
  CHECK(r.products["mug"].reserved == before["mug"].reserved);
  CHECK_FALSE(r.products["mug"].changed);
  CHECK(r.held.empty());
  auto unknown = decide_reservation(
    call("reserve", "ord_1", {{"mug", 1}, {"plate", 1}}), r.products, r.held);
  CHECK(unknown.outcome == provider_outcome::permanent);
  CHECK(unknown.error == "unknown_sku: no product plate");
  CHECK(r.held.empty());
  auto zero = decide_reservation(call("reserve", "ord_1", {{"mug", 0}}),
                                 r.products, r.held);
  CHECK(zero.outcome == provider_outcome::permanent);
  CHECK(zero.error == "invalid_quantity: mug");
  CHECK(r.products["mug"].reserved == 2);
  // Exactly the free stock fits.
  auto all = decide_reservation(call("reserve", "ord_2", {{"mug", 8}}),
                                r.products, r.held);
  CHECK(all.outcome == provider_outcome::ok);
  CHECK(r.products["mug"].reserved == 10);
}

TEST_CASE("a reservation repeated (a retry) changes nothing",
          "[reservations]") {
  rows r;
  auto reserve = call("reserve", "ord_1", {{"mug", 3}});
  REQUIRE(decide_reservation(reserve, r.products, r.held).outcome
          == provider_outcome::ok);
  auto again = decide_reservation(reserve, r.products, r.held);
  CHECK(again.outcome == provider_outcome::ok);
  CHECK(r.products["mug"].reserved == 5);
  CHECK(r.held.size() == 1);
}

TEST_CASE("release frees and commit consumes the order's held stock, once",
          "[reservations]") {
  rows r;
  REQUIRE(decide_reservation(call("reserve", "ord_1", {{"mug", 3}}), r.products,
                             r.held)
            .outcome
          == provider_outcome::ok);
  REQUIRE(decide_reservation(call("reserve", "ord_2", {{"mug", 1}, {"cup", 2}}),
                             r.products, r.held)
            .outcome
          == provider_outcome::ok);
  // Commit ord_1: stock and reserved both go down; ord_2 untouched.
  auto commit = decide_reservation(call("commit", "ord_1"), r.products, r.held);
  CHECK(commit.outcome == provider_outcome::ok);
  CHECK(r.products["mug"].stock == 7);
  CHECK(r.products["mug"].reserved == 3); // 2 before + ord_2's 1
  CHECK((r.held[{"ord_1", "mug"}].status == "committed"));
  CHECK((r.held[{"ord_2", "mug"}].status == "held"));
  // A second commit, or a release after it, changes nothing.
  decide_reservation(call("commit", "ord_1"), r.products, r.held);
  decide_reservation(call("release", "ord_1"), r.products, r.held);
  CHECK(r.products["mug"].stock == 7);
  CHECK(r.products["mug"].reserved == 3);
  // Release ord_2: every held line freed, stock kept.
  auto release
    = decide_reservation(call("release", "ord_2"), r.products, r.held);
  CHECK(release.outcome == provider_outcome::ok);
  CHECK(r.products["mug"].reserved == 2);
  CHECK(r.products["cup"].reserved == 0);
  CHECK(r.products["cup"].stock == 3);
  CHECK((r.held[{"ord_2", "cup"}].status == "released"));
  // Releasing an order that holds nothing is fine and changes nothing.
  auto none = decide_reservation(call("release", "ord_9"), r.products, r.held);
  CHECK(none.outcome == provider_outcome::ok);
}

TEST_CASE("an operation the inventory does not know is refused",
          "[reservations]") {
  rows r;
  auto result = decide_reservation(call("refund", "ord_1"), r.products, r.held);
  CHECK(result.outcome == provider_outcome::permanent);
  CHECK(result.error == "unsupported inventory operation refund");
}
