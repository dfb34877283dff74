// The group-committed writers decide each order on its own even when many
// share one transaction: order creation (order_intake), reservations (the
// inventory shards). Requests are fired in parallel so that they land in the
// same batches.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/shop.hpp"
#include "support/test_database.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

json two_line_order(const std::string& a, int qa, const std::string& b,
                    int qb) {
  auto o = shop::order(a, "tok_ok", qa);
  o["items"].push_back({{"sku", b}, {"quantity", qb}});
  return o;
}

/// Runs `n` calls of `work(i)` on `n` threads at once.
void in_parallel(int n, const std::function<void(int)>& work) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back(work, i);
  for (auto& t : threads)
    t.join();
}

} // namespace

TEST_CASE("creations that share batches are decided one by one",
          "[orders][idempotency][batch]") {
  shop s;
  s.add_product("kettle", 100);
  std::mutex mtx;
  std::map<std::string, std::multiset<int>> statuses; // group -> statuses
  std::set<std::string> same_key_ids;
  std::set<std::string> keyless_ids;
  auto note = [&](const std::string& group, const http_reply& r) {
    std::lock_guard guard{mtx};
    statuses[group].insert(r.status);
    if (r.status != 202)
      return;
    auto id = json::parse(r.body)["id"].get<std::string>();
    if (group == "same key")
      same_key_ids.insert(id);
    if (group == "no key")
      keyless_ids.insert(id);
  };
  in_parallel(60, [&](int i) {
    if (i < 20) { // one key, two bodies: the first committed wins
      auto body = shop::order("kettle", "tok_ok", i % 2 == 0 ? 1 : 2);
      note("same key",
           s.post("/v1/orders", body, {{"Idempotency-Key", "batch-shared"}}));
    } else if (i < 30) { // one key, an unknown SKU: the refusal is stored
      note("unknown sku", s.post("/v1/orders", shop::order("nope", "tok_ok"),
                                 {{"Idempotency-Key", "batch-refused"}}));
    } else { // no key: every request makes an order
      note("no key", s.post("/v1/orders", shop::order("kettle", "tok_ok")));
    }
  });
  // One order for the shared key; every request with the winning body got
  // it, every other body 422.
  CHECK(same_key_ids.size() == 1);
  auto& shared = statuses["same key"];
  CHECK(shared.count(202) == 10);
  CHECK(shared.count(422) == 10);
  CHECK(statuses["unknown sku"].count(422) == 10);
  CHECK(keyless_ids.size() == 30);
  CHECK(statuses["no key"].count(202) == 30);
  REQUIRE(s.settle());
  CHECK(s.db.scalar("SELECT count(*) FROM sagas") == "31");
  CHECK(s.db.scalar("SELECT count(*) FROM idempotency_keys WHERE key LIKE "
                    "'batch-%'")
        == "2");
  // The refusal was stored and is replayed as it was.
  auto again = s.post("/v1/orders", shop::order("nope", "tok_ok"),
                      {{"Idempotency-Key", "batch-refused"}});
  CHECK(again.status == 422);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(json::parse(again.body)["error"]["field"] == "items[0].sku");
}

TEST_CASE("an order short on one line holds none of its other lines",
          "[orders][inventory][batch]") {
  shop s;
  s.add_product("cup", 50);
  s.add_product("saucer", 3);
  // Alone: the saucer line cannot be served, so the cup line is not held.
  auto r = s.post("/v1/orders", two_line_order("cup", 2, "saucer", 5));
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  REQUIRE(s.settle());
  auto o = s.get("/v1/orders/" + id);
  CHECK(o["status"] == "cancelled");
  CHECK(o["steps"][0]["status"] == "failed");
  CHECK(o["steps"][0]["error"].get<std::string>().find("insufficient_stock")
        != std::string::npos);
  // Together: 20 orders of one cup and one saucer compete for 3 saucers in
  // shared reservation batches; exactly 3 complete, the others hold nothing.
  std::atomic<int> accepted{0};
  in_parallel(20, [&](int) {
    if (s.post("/v1/orders", two_line_order("cup", 1, "saucer", 1)).status
        == 202)
      ++accepted;
  });
  CHECK(accepted == 20);
  REQUIRE(s.settle());
  int completed = 0;
  for (auto& [oid, status] : s.statuses())
    completed += status == "completed";
  CHECK(completed == 3);
  auto cup = s.get("/v1/products/cup");
  auto saucer = s.get("/v1/products/saucer");
  CHECK(cup["stock"] == 47);
  CHECK(cup["reserved"] == 0);
  CHECK(saucer["stock"] == 0);
  CHECK(saucer["reserved"] == 0);
  CHECK(s.db.scalar("SELECT count(*) FROM reservations WHERE status = "
                    "'held'")
        == "0");
}
