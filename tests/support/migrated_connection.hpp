#pragma once

// A connection to a test database with every migration applied: the start
// of the tests that drive a store or writer directly, without a node.

#include <catch2/catch.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/migrations.hpp"
#include "support/test_database.hpp"

namespace kassa::test {

/// Opens `conn` on `db` and applies the embedded migrations (the test
/// stops if either fails).
inline void open_migrated(const test_database& db, pg::connection& conn) {
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  pg::migration_report report;
  REQUIRE(
    pg::apply_migrations(conn, pg::embedded_migrations(), report).empty());
}

} // namespace kassa::test
