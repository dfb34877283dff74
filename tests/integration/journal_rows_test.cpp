// The journal writer's rows against a real PostgreSQL (migration 0012): a
// stream's consecutive entries share one row of `events`, at most 16 to a
// row, and every reader — the notification log, a saga's journal — still
// sees one event per seq, also when it starts in the middle of a row.

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/journal.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/journal_rows.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "support/migrated_connection.hpp"
#include "support/test_database.hpp"

using namespace kassa;
using kassa::test::test_database;

namespace {

journal_entry entry(const std::string& stream, int32_t seq,
                    const std::string& customer, std::string data = {}) {
  journal_entry e;
  e.stream = stream;
  e.seq = seq;
  e.type = seq == 1 ? "order.created" : "step.started";
  e.step = seq == 1 ? "" : "step_" + std::to_string(seq);
  e.attempt = seq == 1 ? 0 : 1;
  e.data = data.empty() ? R"({"order_id":")" + stream + R"(","step":"step_)"
                            + std::to_string(seq) + R"(","attempt":1})"
                        : std::move(data);
  e.status = "running";
  e.customer = customer;
  return e;
}

std::vector<int64_t> seqs(const std::vector<published_event>& events) {
  std::vector<int64_t> out;
  out.reserve(events.size());
  for (auto& e : events)
    out.push_back(e.seq);
  return out;
}

} // namespace

TEST_CASE("a stream's entries share a row of the log and read back one by one",
          "[journal][postgres]") {
  test_database db;
  pg::connection conn;
  kassa::test::open_migrated(db, conn);
  REQUIRE_FALSE(conn.exec_script(
    "INSERT INTO sagas (id, status, customer_id, total_minor, currency, "
    "request) VALUES ('ord_a', 'pending', 'c1', 1, 'HUF', '{}'), "
    "('ord_b', 'pending', 'c2', 1, 'HUF', '{}'), "
    "('ord_c', 'pending', 'c3', 1, 'HUF', '{}')"));

  // ord_a: three entries, the last with quotes and a backslash in its data;
  // ord_b: one; ord_c: twenty (a row of 16 and one of 4); a provider event.
  std::vector<journal_entry> batch{
    entry("ord_a", 1, "c1"), entry("ord_a", 2, "c1"),
    entry("ord_a", 3, "c1", R"({"error":"say \"no\" \\ twice","step":"x"})"),
    entry("ord_b", 1, "c2")};
  for (int32_t i = 1; i <= 20; ++i)
    batch.push_back(entry("ord_c", i, "c3"));
  published_event circuit;
  circuit.type = "provider.circuit_opened";
  circuit.data = R"({"provider":"sandbox"})";
  std::vector<published_event> written;
  REQUIRE_FALSE(
    write_journal_batch(conn, batch, {circuit}, nullptr, written).failure);

  // The events as the hub gets them: seqs 1..25 in list order.
  REQUIRE(written.size() == 25);
  for (size_t i = 0; i < written.size(); ++i)
    CHECK(written[i].seq == static_cast<int64_t>(i) + 1);
  CHECK(written[2].data == R"({"error":"say \"no\" \\ twice","step":"x"})");
  CHECK(written[24].type == "provider.circuit_opened");
  CHECK(db.scalar("SELECT count(*) FROM events") == "5");
  CHECK(db.scalar("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM events")
        == "1,4,5,21,25");
  CHECK(db.scalar("SELECT last_seq FROM event_counter") == "25");
  CHECK(db.scalar("SELECT string_agg(status, ',' ORDER BY id) FROM sagas")
        == "running,running,running");

  SECTION("a saga's journal: every entry, in order, data as written") {
    std::map<std::string, std::vector<journal_entry>> journals;
    REQUIRE_FALSE(
      read_saga_journals(conn, {"ord_a", "ord_b", "ord_c"}, journals));
    REQUIRE(journals["ord_a"].size() == 3);
    CHECK(journals["ord_a"][1].seq == 2);
    CHECK(journals["ord_a"][1].type == "step.started");
    CHECK(journals["ord_a"][1].step == "step_2");
    CHECK(journals["ord_a"][1].attempt == 1);
    CHECK(journals["ord_a"][2].data
          == R"({"error":"say \"no\" \\ twice","step":"x"})");
    CHECK(journals["ord_b"].size() == 1);
    REQUIRE(journals["ord_c"].size() == 20);
    for (int32_t i = 0; i < 20; ++i)
      CHECK(journals["ord_c"][static_cast<size_t>(i)].seq == i + 1);
  }

  SECTION("the log from the middle of a row, with a limit") {
    std::vector<published_event> out;
    REQUIRE(read_events(conn, 2, 0, {}, 3, out).empty());
    CHECK(seqs(out) == std::vector<int64_t>{3, 4, 5});
    CHECK(out[0].order_id == "ord_a");
    CHECK(out[0].customer_id == "c1");
    CHECK(out[0].data == R"({"error":"say \"no\" \\ twice","step":"x"})");
    CHECK(out[1].order_id == "ord_b");
    CHECK(out[1].type == "order.created");
  }

  SECTION("topics filter the events of rows") {
    std::vector<published_event> out;
    REQUIRE(read_events(conn, 21, 0, {"order:ord_c"}, 100, out).empty());
    CHECK(seqs(out) == std::vector<int64_t>{22, 23, 24});
    out.clear();
    REQUIRE(read_events(conn, 0, 0, {"providers"}, 100, out).empty());
    CHECK(seqs(out) == std::vector<int64_t>{25});
    out.clear();
    REQUIRE(read_events(conn, 0, 4, {"customer:c3", "order:ord_b"}, 100, out)
              .empty());
    CHECK(seqs(out) == std::vector<int64_t>{4});
  }

  SECTION("the next batch goes on numbering; a repeated append is refused") {
    std::vector<published_event> next;
    REQUIRE_FALSE(write_journal_batch(
                    conn, {entry("ord_a", 4, "c1"), entry("ord_a", 5, "c1")},
                    {}, nullptr, next)
                    .failure);
    CHECK(seqs(next) == std::vector<int64_t>{26, 27});
    // Another incarnation of ord_a that also read up to entry 3.
    CHECK(
      write_journal_batch(conn, {entry("ord_a", 4, "c1")}, {}, nullptr, next)
        .failure);
    CHECK(db.scalar("SELECT last_seq FROM event_counter") == "27");
  }
}
