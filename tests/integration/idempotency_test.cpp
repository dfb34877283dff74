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

  /// A mutation that inserts a row and answers `status`.
  api_response run(const idempotency& idem, int status = 201) {
    return pg::run_idempotent(conn, idem, [&](pg::connection& c) {
      ++runs;
      c.exec_script("INSERT INTO effects VALUES (" + std::to_string(runs)
                    + ")");
      if (status >= 400)
        return error_response(status, "nope", "refused");
      return json_response(status, "{\"run\":" + std::to_string(runs) + "}");
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
  CHECK(first.status == 201);
  CHECK(second.status == 201);
  CHECK(second.body == first.body);
  CHECK(runs == 1);
  CHECK(effects() == "1");
  REQUIRE(second.headers.size() == 1);
  CHECK(second.headers[0].first == "Idempotent-Replayed");
}

TEST_CASE_METHOD(fixture, "the same key with another request is refused",
                 "[idempotency]") {
  run({"test", "k1", "h1"});
  auto other = run({"test", "k1", "h2"});
  CHECK(other.status == 422);
  CHECK(other.body.find("idempotency_key_reused") != std::string::npos);
  CHECK(runs == 1);
  // Keys are scoped: the same key elsewhere is a new request.
  CHECK(run({"elsewhere", "k1", "h2"}).status == 201);
  CHECK(runs == 2);
}

TEST_CASE_METHOD(fixture, "a refusal is stored and its effects rolled back",
                 "[idempotency]") {
  idempotency idem{"test", "k4", "h"};
  CHECK(run(idem, 409).status == 409);
  CHECK(effects() == "0");
  CHECK(run(idem, 201).status == 409); // replayed, not run again
  CHECK(runs == 1);
}

TEST_CASE_METHOD(fixture, "a server error is not stored: the client may retry",
                 "[idempotency]") {
  idempotency idem{"test", "k5", "h"};
  CHECK(run(idem, 503).status == 503);
  CHECK(effects() == "0");
  CHECK(db.scalar("SELECT count(*) FROM idempotency_keys") == "0");
  CHECK(run(idem, 201).status == 201);
  CHECK(runs == 2);
  CHECK(effects() == "1");
}

TEST_CASE_METHOD(fixture, "without a key every request runs", "[idempotency]") {
  idempotency none{"test", "", "h"};
  run(none);
  run(none);
  CHECK(runs == 2);
  CHECK(effects() == "2");
  CHECK(run(none, 422).status == 422);
  CHECK(effects() == "2");
}
