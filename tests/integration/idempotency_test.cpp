// pg::run_idempotent against a real PostgreSQL: the Idempotency-Key rules.

#include <catch2/catch.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "support/migrated_connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

struct fixture {
  test_database db;
  pg::connection conn;
  int runs = 0;

  fixture() {
    kassa::test::open_migrated(db, conn);
    REQUIRE_FALSE(conn.exec_script("CREATE TABLE effects (n int)"));
  }

  /// A mutation that inserts a row and replies `created`, or fails with
  /// `code`.
  reply run(const idempotency& idem,
            std::optional<failure_code> code = std::nullopt) {
    return pg::run_idempotent(conn, idem, [&](pg::connection& c) {
      ++runs;
      c.exec_script("INSERT INTO effects VALUES (" + std::to_string(runs)
                    + ")");
      if (code)
        return reply::fail(*code, "refused", "sku");
      return reply::created("{\"run\":" + std::to_string(runs) + "}");
    });
  }

  std::string effects() {
    return db.scalar("SELECT count(*) FROM effects");
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "the same key and request answer the first answer",
                 "[idempotency]") {
  idempotency idem{"test", "k1", "h1"};
  auto first = run(idem);
  auto second = run(idem);
  CHECK(first.what == reply::kind::created);
  CHECK(second.what == reply::kind::created);
  CHECK(second.body == first.body);
  CHECK(runs == 1);
  CHECK(effects() == "1");
  CHECK_FALSE(first.replayed);
  CHECK(second.replayed);
}

TEST_CASE_METHOD(fixture, "the same key with another request is refused",
                 "[idempotency]") {
  run({"test", "k1", "h1"});
  auto other = run({"test", "k1", "h2"});
  REQUIRE(other.failed());
  CHECK(other.error.code == failure_code::idempotency_key_reused);
  CHECK(other.error.field == "Idempotency-Key");
  CHECK(runs == 1);
  // Keys are scoped: the same key elsewhere is a new request.
  CHECK(run({"elsewhere", "k1", "h2"}).what == reply::kind::created);
  CHECK(runs == 2);
}

TEST_CASE_METHOD(fixture, "a refusal is stored and its effects rolled back",
                 "[idempotency]") {
  idempotency idem{"test", "k4", "h"};
  auto first = run(idem, failure_code::stock_conflict);
  CHECK(first.error.code == failure_code::stock_conflict);
  CHECK(effects() == "0");
  auto again = run(idem); // replayed, not run again
  CHECK(again.replayed);
  CHECK(again.error == first.error); // code, message and field
  CHECK(runs == 1);
}

TEST_CASE_METHOD(fixture, "a server error is not stored: the client may retry",
                 "[idempotency]") {
  idempotency idem{"test", "k5", "h"};
  CHECK(run(idem, failure_code::database_unavailable).error.code
        == failure_code::database_unavailable);
  CHECK(effects() == "0");
  CHECK(db.scalar("SELECT count(*) FROM idempotency_keys") == "0");
  CHECK(run(idem).what == reply::kind::created);
  CHECK(runs == 2);
  CHECK(effects() == "1");
}

TEST_CASE_METHOD(fixture, "without a key every request runs", "[idempotency]") {
  idempotency none{"test", "", "h"};
  run(none);
  run(none);
  CHECK(runs == 2);
  CHECK(effects() == "2");
  CHECK(run(none, failure_code::invalid_field).failed());
  CHECK(effects() == "2");
}

TEST_CASE("records stored as HTTP before migration 0014 replay as before",
          "[idempotency]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  auto all = pg::embedded_migrations();
  std::vector<pg::migration> before;
  for (auto& m : all)
    if (m.version < 14)
      before.push_back(m);
  pg::migration_report report;
  REQUIRE(pg::apply_migrations(conn, before, report).empty());
  REQUIRE_FALSE(conn.exec_script(
    "INSERT INTO idempotency_keys (scope, key, request_hash, status, "
    "response) VALUES ('t', 'ok', 'h', 202, '{\"id\":\"o1\"}'), "
    "('t', 'no', 'h', 409, '{\"error\":{\"code\":\"stock_conflict\","
    "\"message\":\"too few\",\"field\":\"delta\"}}')"));
  REQUIRE(pg::apply_migrations(conn, all, report).empty());
  int runs = 0;
  auto replay = [&](const char* key) {
    return pg::run_idempotent(conn, {"t", key, "h"}, [&](pg::connection&) {
      ++runs;
      return reply::done("{}");
    });
  };
  auto accepted = replay("ok");
  CHECK(accepted.what == reply::kind::accepted);
  CHECK(accepted.body == "{\"id\":\"o1\"}");
  CHECK(accepted.replayed);
  auto refused = replay("no");
  CHECK(refused.error
        == failure{failure_code::stock_conflict, "too few", "delta"});
  CHECK(refused.replayed);
  CHECK(runs == 0);
}
