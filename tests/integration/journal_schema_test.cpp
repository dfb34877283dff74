// The journal's rows in `events` against a real PostgreSQL: migration 0010
// carries a database written with `saga_events` over, and the unique
// (order_id, stream_seq) key fences a stream's history.

#include <catch2/catch.hpp>

#include "actors/journal.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/migrations.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

std::vector<pg::migration> migrations_up_to(int version) {
  std::vector<pg::migration> out;
  for (auto& m : pg::embedded_migrations())
    if (m.version <= version)
      out.push_back(m);
  return out;
}

void migrate(pg::connection& conn, const std::vector<pg::migration>& ms) {
  pg::migration_report report;
  REQUIRE(pg::apply_migrations(conn, ms, report) == "");
}

} // namespace

TEST_CASE("migration 0010 numbers each order's events as its journal",
          "[journal][migrate]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  migrate(conn, migrations_up_to(9));
  // As the node wrote it before: `ord_a` three entries (its order.created in
  // the log with its first append), `ord_b` accepted but not started (only
  // journal entry 1), a provider event between them.
  REQUIRE_FALSE(conn.exec_script(R"sql(
    INSERT INTO sagas (id, status, customer_id, total_minor, currency, request,
                       last_seq)
    VALUES ('ord_a', 'running', 'c1', 100, 'HUF', '{}', 3),
           ('ord_b', 'pending', 'c2', 100, 'HUF', '{}', 1);
    INSERT INTO saga_events (saga_id, seq, type, step, attempt, data) VALUES
      ('ord_a', 1, 'order.created', NULL, 0, '{}'),
      ('ord_a', 2, 'step.started', 'reserve_stock', 1, '{}'),
      ('ord_a', 3, 'step.succeeded', 'reserve_stock', 1,
       '{"msg_id":"ord_a:reserve_stock:1","ref":"res-1"}'),
      ('ord_b', 1, 'order.created', NULL, 0, '{}');
    INSERT INTO events (seq, type, order_id, customer_id, data) VALUES
      (1, 'order.created', 'ord_a', 'c1',
       '{"order_id":"ord_a","status":"pending"}'),
      (2, 'step.started', 'ord_a', 'c1',
       '{"order_id":"ord_a","status":"running","step":"reserve_stock","attempt":1}'),
      (3, 'provider.circuit_opened', NULL, NULL, '{"provider":"x"}'),
      (4, 'step.succeeded', 'ord_a', 'c1',
       '{"order_id":"ord_a","status":"running","step":"reserve_stock","attempt":1,"ref":"res-1"}');
    UPDATE event_counter SET last_seq = 4;
  )sql"));
  migrate(conn, pg::embedded_migrations());

  std::map<std::string, std::vector<journal_entry>> journals;
  REQUIRE_FALSE(read_saga_journals(conn, {"ord_a", "ord_b"}, journals));
  REQUIRE(journals["ord_a"].size() == 3);
  auto& a = journals["ord_a"];
  CHECK(a[0].seq == 1);
  CHECK(a[0].type == "order.created");
  CHECK(a[0].step.empty());
  CHECK(a[1].seq == 2);
  CHECK(a[1].step == "reserve_stock");
  CHECK(a[1].attempt == 1);
  CHECK(a[2].seq == 3);
  CHECK(a[2].type == "step.succeeded");
  CHECK(a[2].data.find("res-1") != std::string::npos);
  // Not started: an empty journal, which its first append opens.
  CHECK(journals["ord_b"].empty());
  CHECK(db.scalar("SELECT count(*) FROM events WHERE stream_seq IS NULL")
        == "1");
  CHECK(db.scalar("SELECT to_regclass('saga_events') IS NULL") == "t");
}

TEST_CASE("a stream's journal takes each seq once", "[journal]") {
  test_database db;
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  migrate(conn, pg::embedded_migrations());
  REQUIRE_FALSE(conn.exec_script(
    "INSERT INTO events (seq, type, order_id, stream_seq) VALUES "
    "(1, 'order.created', 'ord_a', 1), (2, 'order.created', 'ord_b', 1), "
    "(3, 'provider.circuit_opened', NULL, NULL), "
    "(4, 'provider.circuit_closed', NULL, NULL)"));
  // A second incarnation of `ord_a` writing its entry 1 again is refused.
  CHECK(conn.exec_script("INSERT INTO events (seq, type, order_id, "
                         "stream_seq) VALUES (5, 'step.started', 'ord_a', 1)"));
  CHECK(db.scalar("SELECT count(*) FROM events") == "4");
}
