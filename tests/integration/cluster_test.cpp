// Several real node processes on one database (docs/cluster.md): shards
// spread over them, a node killed or paused past its lease, and the journal
// checked afterwards for writes a fenced owner must not have made.

#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "runtime/shards.hpp"
#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/shop.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_cluster.hpp"
#include "support/test_database.hpp"
#include "support/ws_client.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Places order `key` on `nodes[first]`, and while a node does not answer
/// (killed) or answers 503 (its shards are moving), on the next one with
/// the same Idempotency-Key, as a client behind a load balancer would.
/// Returns the order id, or "" if no node took it within `timeout`.
std::string place_order(test_cluster& c, size_t first, const std::string& key,
                        std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (size_t attempt = 0; std::chrono::steady_clock::now() < deadline;
       ++attempt) {
    auto& node = c.nodes[(first + attempt) % c.nodes.size()];
    try {
      auto r = c.post(node, "/v1/orders", shop::order("mug", "tok_ok"),
                      {{"Idempotency-Key", key}});
      if (r.status == 202)
        return json::parse(r.body)["id"];
      if (r.status != 503)
        FAIL("order " << key << ": " << r.status << " " << r.body);
    } catch (const std::exception&) {
      // Refused or cut: that node is down.
    }
    std::this_thread::sleep_for(50ms);
  }
  return {};
}

/// Places `n` orders on `c.nodes[first]` (falling back as place_order
/// does) from four client threads, with keys `<prefix>-<i>`; returns the
/// ids of those accepted (an order no node took is missing).
std::set<std::string> place_on(test_cluster& c, size_t first, int n,
                               const std::string& prefix) {
  std::mutex mtx;
  std::set<std::string> ids;
  std::vector<std::thread> clients;
  std::atomic<int> next{0};
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        auto id = place_order(c, first, prefix + "-" + std::to_string(i));
        std::lock_guard guard{mtx};
        if (!id.empty())
          ids.insert(id);
      }
    });
  for (auto& t : clients)
    t.join();
  return ids;
}

/// The journal as the cluster wrote it: no write at epoch e of a shard
/// after epoch e + 1 of it was taken (the take's log seq bounds every
/// write of the previous owner), epochs never decreasing per order, and
/// each order's events numbered 1, 2, ... without a gap. Returns how many
/// orders were written at more than one epoch (moved between nodes).
int check_fenced_journal(const test_database& db, uint32_t shard_count) {
  pg::connection conn;
  REQUIRE_FALSE(pg::connection::open(db.url(), 5, conn));
  pg::result takes;
  REQUIRE_FALSE(
    conn.exec("SELECT shard, epoch, log_seq FROM shard_takes", {}, takes));
  std::map<std::pair<int64_t, int64_t>, int64_t> taken_at; // (shard, epoch)
  for (int r = 0; r < takes.rows(); ++r)
    taken_at[{std::stoll(std::string{takes.value(r, 0)}),
              std::stoll(std::string{takes.value(r, 1)})}]
      = std::stoll(std::string{takes.value(r, 2)});
  pg::result rows;
  REQUIRE_FALSE(conn.exec("SELECT order_id, seq, epoch FROM events WHERE "
                          "order_id IS NOT NULL ORDER BY order_id, seq",
                          {}, rows));
  REQUIRE(rows.rows() > 0);
  std::map<std::string, int64_t> last_epoch;
  std::set<std::string> moved;
  int unfenced = 0;
  for (int r = 0; r < rows.rows(); ++r) {
    std::string order{rows.value(r, 0)};
    auto seq = std::stoll(std::string{rows.value(r, 1)});
    if (rows.is_null(r, 2)) {
      ++unfenced; // given up by the sweeper: no epoch
      continue;
    }
    auto epoch = std::stoll(std::string{rows.value(r, 2)});
    auto shard = static_cast<int64_t>(shard_of(order, shard_count));
    INFO(order << " seq " << seq << " shard " << shard << " epoch " << epoch);
    auto next = taken_at.find({shard, epoch + 1});
    if (next != taken_at.end())
      CHECK(seq <= next->second);
    CHECK(taken_at.contains({shard, epoch}));
    auto [it, fresh] = last_epoch.try_emplace(order, epoch);
    CHECK(epoch >= it->second);
    if (epoch != it->second)
      moved.insert(order);
    it->second = epoch;
  }
  CHECK(unfenced == 0);
  pg::result gaps;
  REQUIRE_FALSE(conn.exec(
    "SELECT order_id, count(*), max(stream_seq) FROM event_entries WHERE "
    "order_id IS NOT NULL GROUP BY order_id HAVING count(*) <> "
    "max(stream_seq) OR min(stream_seq) <> 1",
    {}, gaps));
  CHECK(gaps.rows() == 0);
  return static_cast<int>(moved.size());
}

/// Every order terminal, readable from each of `via`, each effect once.
void check_orders(const std::set<std::string>& ids,
                  const std::vector<const cluster_node*>& via) {
  std::map<std::string, std::string> statuses;
  for (auto* node : via)
    for (auto& id : ids) {
      auto r = http_get(node->port, "/v1/orders/" + id, with_key());
      INFO(node->id << " " << id << " " << r.body);
      REQUIRE(r.status == 200);
      auto status = json::parse(r.body)["status"].get<std::string>();
      CHECK((status == "completed" || status == "cancelled"));
      statuses[id] = status;
    }
  // The sandboxes' ledgers are in the shared database: any node reads them.
  check_exactly_once_at(via.front()->port, statuses);
}

} // namespace

TEST_CASE("three nodes share the shards and a node killed with kill -9 "
          "midway loses no order and repeats no effect",
          "[cluster]") {
  test_cluster c{3};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  auto& n3 = c.nodes[2];
  REQUIRE(c.balanced(n1, {"n1", "n2", "n3"}, 64));
  c.add_mugs(n1);
  c.slow_providers(50);
  const int total = 600;
  std::mutex mtx;
  std::set<std::string> ids;
  std::atomic<int> next{0};
  std::atomic<int> placed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        auto id = place_order(c, static_cast<size_t>(i) % 3,
                              "order-" + std::to_string(i));
        std::lock_guard guard{mtx};
        if (!id.empty())
          ids.insert(id);
        ++placed;
      }
    });
  // Midway, with sagas in flight on every node: n2 dies.
  REQUIRE(eventually(
    [&] {
      return placed >= total / 2;
    },
    60s));
  n2.proc->signal(SIGKILL);
  for (auto& t : clients)
    t.join();
  CHECK(ids.size() == static_cast<size_t>(total));
  // n2's shards go to the survivors and its sagas finish there.
  REQUIRE(c.settle(90s));
  auto h = c.held(n1);
  CHECK(h["n2"] == 0);
  CHECK(h["n1"] + h["n3"] == 256);
  CHECK(h["n1"] >= 64);
  CHECK(h["n3"] >= 64);
  check_orders(ids, {&n1, &n3});
  CHECK(c.db.scalar("SELECT count(*) FROM sagas")
        == std::to_string(ids.size()));
  // Some of n2's sagas were in flight and went on elsewhere.
  CHECK(check_fenced_journal(c.db, 256) > 0);
  // n2 comes back as a new incarnation and holds shards again.
  c.start(n2);
  REQUIRE(c.balanced(n1, {"n1", "n2", "n3"}, 64));
  auto view = c.cluster_view(n2);
  for (auto& n : view["nodes"])
    if (n["name"] == "n2") {
      CHECK(n["incarnation"] == 2);
      CHECK(n["state"] == "alive");
    }
}

TEST_CASE("a node paused past its lease writes nothing to the shards it "
          "lost and holds shards again once it is back",
          "[cluster]") {
  test_cluster c{2};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  c.add_mugs(n1);
  // Slow providers: n2 has calls in flight and journal writes to make
  // when it is paused.
  c.slow_providers(300);
  auto ids = place_on(c, 1, 200, "paused");
  REQUIRE(ids.size() == 200);
  REQUIRE(c.db.scalar("SELECT count(*) FROM sagas WHERE status NOT IN "
                      "('completed','cancelled','failed')")
          != "0");
  n2.proc->signal(SIGSTOP);
  // Its leases expire (3 s) and n1 takes every shard.
  bool taken = c.balanced(n1, {"n1"}, 256, 15s);
  n2.proc->signal(SIGCONT);
  REQUIRE(taken);
  REQUIRE(c.settle(90s));
  check_orders(ids, {&n1, &n2});
  CHECK(check_fenced_journal(c.db, 256) > 0);
  // n2 noticed it had been away too long, and takes a share again.
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  CHECK(n2.proc->output().find("this node fences itself") != std::string::npos);
}

TEST_CASE("a node cut from the database fences itself while the others "
          "take its shards and nothing is done twice",
          "[cluster]") {
  test_cluster c{2, false};
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  // n2 reaches PostgreSQL through a proxy the test cuts.
  tcp_proxy proxy{port_of(c.db.url())};
  n2.database_url = with_port(c.db.url(), proxy.port());
  c.start(n1);
  c.start(n2);
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  c.add_mugs(n1);
  c.slow_providers(300);
  auto ids = place_on(c, 1, 150, "cut");
  REQUIRE(ids.size() == 150);
  proxy.set(tcp_proxy::mode::reset);
  // n2 cannot renew: it fences itself; its leases expire and n1 takes them.
  CHECK(eventually(
    [&] {
      return n2.proc->output().find("this node fences itself")
             != std::string::npos;
    },
    10s));
  REQUIRE(c.balanced(n1, {"n1"}, 256, 15s));
  // n1 finishes n2's orders while n2 is still cut off.
  REQUIRE(c.settle(90s));
  proxy.set(tcp_proxy::mode::pass);
  // Back, n2 learns what it lost and takes a fair share again.
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  check_orders(ids, {&n1, &n2});
  CHECK(check_fenced_journal(c.db, 256) > 0);
}

TEST_CASE("a WebSocket subscriber on one node sees the events of orders "
          "placed on another in seq order",
          "[cluster][ws]") {
  test_cluster c{2};
  auto& n1 = c.nodes[0];
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  c.add_mugs(n1);
  ws_client ws{n1.port, "/v1/ws?token=test-key"};
  ws.send_text(R"({"op":"subscribe","topics":["orders"]})");
  auto ack = ws.next();
  REQUIRE(ack);
  REQUIRE(json::parse(*ack)["type"] == "subscribed");
  // Orders on both nodes: their sagas run where they were placed.
  std::set<std::string> on_n2;
  std::set<std::string> all;
  for (int i = 0; i < 20; ++i) {
    auto id
      = place_order(c, static_cast<size_t>(i % 2), "ws-" + std::to_string(i));
    REQUIRE_FALSE(id.empty());
    all.insert(id);
    if (i % 2 == 1)
      on_n2.insert(id);
  }
  // n1's subscriber gets every order's completion, n2's included, with
  // strictly growing seqs.
  std::set<std::string> completed;
  int64_t last_seq = 0;
  while (completed.size() < all.size()) {
    auto frame = ws.next(20s);
    INFO(completed.size() << " of " << all.size() << " completed");
    REQUIRE(frame);
    auto f = json::parse(*frame);
    REQUIRE(f["type"] == "event");
    auto seq = f["seq"].get<int64_t>();
    CHECK(seq > last_seq);
    last_seq = seq;
    if (f["event"] == "order.completed")
      completed.insert(f["data"]["order_id"].get<std::string>());
  }
  CHECK(completed == all);
  CHECK_FALSE(on_n2.empty());
}
