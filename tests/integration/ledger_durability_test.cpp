// What the sandboxes' asynchronous ledger commits rely on, against a real
// PostgreSQL: a synchronous commit flushes the WAL up to its own commit
// record, so every transaction committed before it — asynchronously on
// another connection too — is on disk once it returns. A saga journals an
// effect (synchronously) only after the ledger row committed, so the row is
// durable no later than the journal entry that records it.

#include <string>

#include <catch2/catch.hpp>

#include "adapters/postgres/connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

std::string one_value(pg::connection& conn, const std::string& sql) {
  pg::result res;
  REQUIRE_FALSE(conn.exec(sql, {}, res));
  REQUIRE(res.rows() == 1);
  return std::string{res.value(0, 0)};
}

} // namespace

TEST_CASE("a synchronous commit flushes an earlier asynchronous one",
          "[postgres][ledger]") {
  test_database db;
  pg::connection ledger;
  pg::connection journal;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, ledger));
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, journal));
  REQUIRE_FALSE(ledger.exec_script("CREATE TABLE effects (n int);"
                                   " CREATE TABLE entries (n int)"));
  REQUIRE_FALSE(ledger.exec_script("SET synchronous_commit = off"));
  for (int round = 0; round < 20; ++round) {
    REQUIRE_FALSE(ledger.exec_script("INSERT INTO effects VALUES (1)"));
    // The end of the WAL after the ledger's commit: its commit record lies
    // before this point.
    auto ledger_end = one_value(ledger, "SELECT pg_current_wal_insert_lsn()");
    REQUIRE_FALSE(journal.exec_script("INSERT INTO entries VALUES (1)"));
    CHECK(one_value(journal, "SELECT pg_current_wal_flush_lsn() >= '"
                               + ledger_end + "'::pg_lsn")
          == "t");
  }
  // The premise: the ledger's own commits do not wait for the flush.
  CHECK(one_value(ledger, "SELECT current_setting('synchronous_commit')")
        == "off");
}
