// The inventory's batches against a real PostgreSQL
// (apply_reservation_batch, what each shard runs on a pool connection):
// calls are decided one by one against the locked product rows, and an
// order's reservations are found also where the call does not name their
// SKU — locked late and read again — or names no lines at all.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/provider_protocol.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/inventory_store.hpp"
#include "support/migrated_connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

provider_call call(const std::string& op, const std::string& order,
                   std::vector<order_line> lines) {
  provider_call c;
  c.message_id = order + ":" + op + ":1";
  c.idempotency_key = order + ":" + op;
  c.op = op;
  c.order_id = order;
  c.lines = std::move(lines);
  return c;
}

struct inventory_db {
  test_database db;
  pg::connection conn;

  inventory_db() {
    kassa::test::open_migrated(db, conn);
    REQUIRE_FALSE(conn.exec_script(
      "INSERT INTO products (sku, name, price_minor, currency, stock) VALUES "
      "('lamp', 'Lamp', 100, 'HUF', 10), ('rug', 'Rug', 100, 'HUF', 10)"));
  }

  /// "stock/reserved" of a product.
  std::string product(const std::string& sku) {
    pg::result res;
    REQUIRE_FALSE(conn.exec("SELECT stock || '/' || reserved FROM products "
                            "WHERE sku = $1",
                            {sku}, res));
    REQUIRE(res.rows() == 1);
    return std::string{res.value(0, 0)};
  }

  /// "sku:status,…" of an order's reservations, by SKU.
  std::string reservations(const std::string& order) {
    pg::result res;
    REQUIRE_FALSE(conn.exec(
      "SELECT coalesce(string_agg(sku || ':' || status, ',' ORDER BY sku), "
      "'') FROM reservations WHERE order_id = $1",
      {order}, res));
    return std::string{res.value(0, 0)};
  }
};

} // namespace

TEST_CASE("an inventory batch decides each call against the locked rows",
          "[inventory][postgres]") {
  inventory_db s;
  auto results = apply_reservation_batch(
    s.conn, {call("reserve", "o1", {{"lamp", 1}, {"rug", 2}}),
             call("reserve", "o2", {{"lamp", 100}}),
             call("reserve", "o3", {{"rug", 3}})});
  REQUIRE(results.size() == 3);
  CHECK(results[0].outcome == provider_outcome::ok);
  CHECK(results[1].outcome == provider_outcome::permanent);
  CHECK(results[1].error.find("insufficient_stock") != std::string::npos);
  CHECK(results[2].outcome == provider_outcome::ok);
  CHECK(s.product("lamp") == "10/1");
  CHECK(s.product("rug") == "10/5");
  CHECK(s.reservations("o2").empty());
  // A retried reserve holds nothing twice.
  results = apply_reservation_batch(
    s.conn, {call("reserve", "o1", {{"lamp", 1}, {"rug", 2}})});
  CHECK(results[0].outcome == provider_outcome::ok);
  CHECK(s.product("rug") == "10/5");
}

TEST_CASE("an order's reservations are found where the call does not name "
          "their SKU",
          "[inventory][postgres]") {
  inventory_db s;
  REQUIRE(apply_reservation_batch(
            s.conn, {call("reserve", "o1", {{"lamp", 1}, {"rug", 2}}),
                     call("reserve", "o2", {{"rug", 3}})})[1]
            .outcome
          == provider_outcome::ok);
  // The commit names only the lamp: the rug's reservation is locked late,
  // read again, and committed with it.
  auto results
    = apply_reservation_batch(s.conn, {call("commit", "o1", {{"lamp", 1}})});
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == provider_outcome::ok);
  CHECK(s.reservations("o1") == "lamp:committed,rug:committed");
  CHECK(s.product("lamp") == "9/0");
  CHECK(s.product("rug") == "8/3");
  // A release naming no lines finds the SKUs from the reservations.
  results = apply_reservation_batch(s.conn, {call("release", "o2", {})});
  CHECK(results[0].outcome == provider_outcome::ok);
  CHECK(s.reservations("o2") == "rug:released");
  CHECK(s.product("rug") == "8/0");
  // Done is done: a release after the commit changes nothing.
  results = apply_reservation_batch(s.conn, {call("release", "o1", {})});
  CHECK(results[0].outcome == provider_outcome::ok);
  CHECK(s.reservations("o1") == "lamp:committed,rug:committed");
  CHECK(s.product("lamp") == "9/0");
}
