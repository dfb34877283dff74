// How the batch writers' statements are planned, against a real PostgreSQL:
// a keyed transaction (pg::connection::begin_keyed) and a by-key connection
// (plan_by_key_only) prepare array joins too, plan them once, generically,
// and reach rows by index even on a table no ANALYZE has seen — where the
// planner, left alone, scans the whole table for a batch of keys.

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

constexpr const char* update_by_keys
  = "UPDATE items AS i SET v = u.v FROM unnest($1::text[], $2::bigint[]) AS "
    "u(id, v) WHERE i.id = u.id";

/// 5,000 rows never analyzed (autovacuum off for the table).
void make_items(pg::connection& conn) {
  REQUIRE_FALSE(conn.exec_script(
    "CREATE TABLE items (id text PRIMARY KEY, v bigint NOT NULL)"
    " WITH (autovacuum_enabled = off);"
    " INSERT INTO items SELECT 'item-' || n, 0"
    " FROM generate_series(1, 5000) AS n"));
}

/// Sequential and index scans of `items` by this session so far (its
/// counts not yet flushed to the shared statistics included).
std::pair<int64_t, int64_t> scans(pg::connection& conn) {
  pg::result res;
  REQUIRE_FALSE(conn.exec("SELECT seq_scan, idx_scan FROM "
                          "pg_stat_xact_user_tables WHERE relname = 'items'",
                          {}, res));
  REQUIRE(res.rows() == 1);
  return {std::stoll(std::string{res.value(0, 0)}),
          std::stoll(std::string{res.value(0, 1)})};
}

/// Runs update_by_keys for 40 keys; answers "sequential-scans index-scans"
/// that it made of `items`.
std::string update_forty(pg::connection& conn, int round) {
  auto before = scans(conn);
  std::vector<std::string> ids;
  std::vector<int64_t> values;
  for (int k = 0; k < 40; ++k) {
    ids.push_back("item-" + std::to_string(1 + (round * 40 + k) % 5000));
    values.push_back(round);
  }
  pg::result res;
  REQUIRE_FALSE(conn.exec(update_by_keys,
                          {pg::text_array(ids), pg::int_array(values)}, res));
  REQUIRE(res.affected() == 40);
  auto after = scans(conn);
  return std::to_string(after.first - before.first) + " "
         + std::to_string(after.second - before.second);
}

std::string plans_of_update(pg::connection& conn) {
  pg::result res;
  REQUIRE_FALSE(conn.exec(
    "SELECT generic_plans || ' ' || custom_plans FROM pg_prepared_statements"
    " WHERE statement LIKE 'UPDATE items%'",
    {}, res));
  return res.rows() == 1 ? std::string{res.value(0, 0)} : "not prepared";
}

} // namespace

TEST_CASE("a keyed transaction plans a batch once and reaches it by index",
          "[postgres][plans]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  make_items(conn);

  SECTION("left alone, the planner scans the unanalyzed table") {
    // The premise: what begin_keyed prevents does happen without it.
    REQUIRE_FALSE(conn.exec_script("BEGIN"));
    auto scans = update_forty(conn, 0);
    REQUIRE_FALSE(conn.exec_script("COMMIT"));
    CHECK(scans.starts_with("1 "));
    CHECK(plans_of_update(conn) == "not prepared");
  }

  SECTION("keyed: prepared, one generic plan, index scans only") {
    for (int round = 0; round < 8; ++round) {
      REQUIRE_FALSE(conn.begin_keyed());
      CHECK(update_forty(conn, round) == "0 40");
      REQUIRE_FALSE(conn.end_keyed(true));
    }
    CHECK(plans_of_update(conn) == "8 0");
  }

  SECTION("a rolled back keyed transaction leaves nothing behind") {
    REQUIRE_FALSE(conn.begin_keyed());
    update_forty(conn, 0);
    REQUIRE_FALSE(conn.end_keyed(false));
    CHECK(db.scalar("SELECT count(*) FROM items WHERE v <> 0") == "0");
    // And the session is back to its defaults.
    pg::result res;
    REQUIRE_FALSE(
      conn.exec("SELECT current_setting('enable_seqscan')", {}, res));
    CHECK(std::string{res.value(0, 0)} == "on");
  }
}

TEST_CASE("a by-key connection plans every statement once, by index",
          "[postgres][plans]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  make_items(conn);
  REQUIRE_FALSE(conn.plan_by_key_only());
  for (int round = 0; round < 8; ++round) {
    REQUIRE_FALSE(conn.exec_script("BEGIN"));
    CHECK(update_forty(conn, round) == "0 40");
    REQUIRE_FALSE(conn.exec_script("COMMIT"));
  }
  CHECK(plans_of_update(conn) == "8 0");
}
