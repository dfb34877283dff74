// pg::connection::exec_pipeline and the keyed transaction around it, against
// a real PostgreSQL: several statements in one round trip, answered in
// order; a failure stops the ones after it and leaves the connection usable;
// a keyed transaction opened and committed in the same round trips as its
// statements commits all of them or, ended with end_keyed(false), nothing.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

constexpr const char* insert_item
  = "INSERT INTO items (id, v) VALUES ($1, $2::bigint)";

pg::statement insert(const std::string& id, int64_t v) {
  return {insert_item, {id, std::to_string(v)}};
}

} // namespace

TEST_CASE("a pipeline runs its statements in one go, in order",
          "[postgres][pipeline]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  REQUIRE_FALSE(conn.exec_script(
    "CREATE TABLE items (id text PRIMARY KEY, v bigint NOT NULL)"));

  SECTION("every statement answers, in order; prepared once for reuse") {
    std::vector<pg::result> out;
    REQUIRE_FALSE(conn.exec_pipeline(
      {insert("a", 1),
       insert("b", 2),
       {"SELECT id, v FROM items WHERE id = ANY($1::text[]) ORDER BY id",
        {pg::text_array(std::vector<std::string>{"a", "b"})}}},
      out));
    REQUIRE(out.size() == 3);
    CHECK(out[0].affected() == 1);
    CHECK(out[1].affected() == 1);
    REQUIRE(out[2].rows() == 2);
    CHECK(out[2].value(1, 0) == "b");
    CHECK(out[2].value(1, 1) == "2");
    // The INSERT text ran twice in that pipeline: prepared once (the
    // second run used the name the first one's PREPARE created).
    REQUIRE_FALSE(conn.exec_pipeline({insert("c", 3)}, out));
    CHECK(db.scalar("SELECT count(*) FROM items") == "3");
    pg::result res;
    REQUIRE_FALSE(conn.exec("SELECT count(*) FROM pg_prepared_statements "
                            "WHERE statement LIKE 'INSERT INTO items%'",
                            {}, res));
    CHECK(res.value(0, 0) == "1");
  }

  SECTION("a failure stops the rest; the connection goes on") {
    std::vector<pg::result> out;
    auto err = conn.exec_pipeline(
      {insert("a", 1), insert("a", 2), insert("z", 26)}, out);
    REQUIRE(err);
    CHECK(err->sqlstate == "23505"); // the duplicate key, not the abort
    // Outside a transaction each statement of a pipeline up to the sync is
    // one implicit transaction: all of it is rolled back.
    CHECK(db.scalar("SELECT count(*) FROM items") == "0");
    REQUIRE(conn.ok());
    REQUIRE_FALSE(conn.exec_pipeline({insert("z", 26)}, out));
    CHECK(db.scalar("SELECT v FROM items WHERE id = 'z'") == "26");
  }

  SECTION("a keyed transaction in two round trips commits everything") {
    std::vector<pg::result> out;
    REQUIRE_FALSE(conn.begin_keyed_with(
      {insert("a", 1), {"SELECT current_setting('enable_seqscan')", {}}}, out));
    REQUIRE(out.size() == 2);
    CHECK(out[1].value(0, 0) == "off"); // the keyed settings hold
    CHECK(db.scalar("SELECT count(*) FROM items") == "0"); // not yet
    pg::result last;
    REQUIRE_FALSE(conn.commit_keyed_with(insert("b", 2), last));
    CHECK(last.affected() == 1);
    CHECK(db.scalar("SELECT count(*) FROM items") == "2");
    pg::result res;
    REQUIRE_FALSE(
      conn.exec("SELECT current_setting('enable_seqscan')", {}, res));
    CHECK(res.value(0, 0) == "on"); // local to the transaction
  }

  SECTION("a keyed transaction whose last statement fails keeps nothing") {
    std::vector<pg::result> out;
    REQUIRE_FALSE(conn.begin_keyed_with({insert("a", 1)}, out));
    pg::result last;
    auto err = conn.commit_keyed_with(insert("a", 2), last);
    REQUIRE(err);
    CHECK(err->sqlstate == "23505");
    REQUIRE_FALSE(conn.end_keyed(false));
    CHECK(db.scalar("SELECT count(*) FROM items") == "0");
    REQUIRE_FALSE(conn.exec_pipeline({insert("a", 3)}, out));
    CHECK(db.scalar("SELECT v FROM items WHERE id = 'a'") == "3");
  }
}
