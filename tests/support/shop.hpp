#pragma once

// A node on its own test database with helpers to place orders and check
// the sandbox ledgers: shared by the order and WebSocket tests.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/test_database.hpp"

namespace kassa::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct shop {
  test_database db;
  uint16_t port = free_port();
  std::unique_ptr<process> node;
  std::vector<std::string> env;

  explicit shop(std::vector<std::string> extra_env = {},
                std::string admin_url = {})
    : db(std::move(admin_url)), env(std::move(extra_env)) {
    start();
  }

  void start() {
    auto vars = env;
    vars.push_back("KASSA_DATABASE_POOL_SIZE=8");
    node = std::make_unique<process>(
      std::vector<std::string>{"serve", "--http-port", std::to_string(port)},
      node_env(db.url(), vars));
    if (!node->wait_healthy(port))
      FAIL("node did not start:\n" << node->output());
  }

  http_reply post(const std::string& path, const json& body,
                  header_list extra = {}) {
    extra.emplace_back("Content-Type", "application/json");
    return http_request(port, "POST", path, with_key(extra), body.dump());
  }
  json get(const std::string& path) {
    auto r = http_get(port, path, with_key());
    INFO(path << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  void add_product(const std::string& sku, int stock) {
    auto r = post("/v1/products", {{"sku", sku},
                                   {"name", sku},
                                   {"price_minor", 1000},
                                   {"currency", "HUF"},
                                   {"stock", stock}});
    REQUIRE(r.status == 201);
  }

  static json order(const std::string& sku, const std::string& token,
                    int quantity = 1) {
    return {{"customer", {{"id", "c1"}, {"email", "c1@example.test"}}},
            {"items", {{{"sku", sku}, {"quantity", quantity}}}},
            {"payment", {{"provider", "sandbox"}, {"token", token}}},
            {"shipping",
             {{"provider", "sandbox"}, {"address", {{"country", "HU"}}}}}};
  }

  /// Polls GET /v1/orders/{id} until `done(order)` or the timeout; returns
  /// the last order seen.
  json wait_for(const std::string& id,
                const std::function<bool(const json&)>& done,
                std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto o = get("/v1/orders/" + id);
    while (!done(o) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      o = get("/v1/orders/" + id);
    }
    return o;
  }

  /// Waits until no saga is unfinished (or the deadline).
  bool settle(std::chrono::seconds timeout = 90s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (db.scalar("SELECT count(*) FROM sagas WHERE status NOT IN "
                    "('completed','cancelled','failed')")
          == "0")
        return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::map<std::string, std::string> statuses() {
    std::map<std::string, std::string> out;
    std::string after;
    for (;;) {
      auto page = get("/v1/orders?limit=500&after=" + after);
      for (auto& o : page["orders"])
        out[o["id"]] = o["status"];
      if (page["next"].is_null())
        return out;
      after = page["next"];
    }
  }

  /// effects[order_id][op] = count, from a provider's ledger.
  std::map<std::string, std::map<std::string, int>>
  ledger(const std::string& provider);

  /// Every provider effect happened at most once per order, and what is
  /// left matches the order's final status.
  void check_exactly_once(const std::map<std::string, std::string>& orders);
};

/// effects[order_id][op] = count, from a provider's ledger as the node on
/// `port` reads it (the ledgers are in the database: any node of a cluster).
inline std::map<std::string, std::map<std::string, int>>
ledger_at(uint16_t port, const std::string& provider) {
  std::map<std::string, std::map<std::string, int>> out;
  auto r = http_get(port, "/v1/providers/" + provider + "/ledger", with_key());
  INFO(provider << " ledger -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  auto page = json::parse(r.body);
  for (auto& e : page["effects"])
    ++out[e["order_id"].get<std::string>()][e["op"].get<std::string>()];
  return out;
}

/// shop::check_exactly_once through the node on `port`.
inline void
check_exactly_once_at(uint16_t port,
                      const std::map<std::string, std::string>& orders) {
  auto pay = ledger_at(port, "sandbox-payment");
  auto inv = ledger_at(port, "sandbox-invoicing");
  auto ship = ledger_at(port, "sandbox-shipping");
  // A completed order's confirmation is sent by the contact service after
  // the saga stored it: wait (a while) for every one to be sent.
  auto msg = ledger_at(port, "sandbox-messaging");
  auto all_told = [&] {
    for (auto& [id, status] : orders)
      if (status == "completed" && msg[id]["message"] == 0)
        return false;
    return true;
  };
  // (A node killed meanwhile leaves its messages to the others once their
  // lease runs out: contact.lease_ms.)
  for (int i = 0; i < 800 && !all_told(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    msg = ledger_at(port, "sandbox-messaging");
  }
  for (auto& [id, status] : orders) {
    INFO(id << " " << status);
    CHECK((status == "completed" || status == "cancelled"));
    auto& p = pay[id];
    auto& i = inv[id];
    CHECK(p["charge"] <= 1);
    CHECK(p["refund"] <= p["charge"]);
    CHECK(i["invoice"] <= 1);
    CHECK(i["storno"] <= i["invoice"]);
    CHECK(ship[id]["shipment"] <= 1);
    CHECK(msg[id]["message"] <= 1);
    if (status == "completed") {
      CHECK(p["charge"] == 1);
      CHECK(p["refund"] == 0);
      CHECK(i["invoice"] == 1);
      CHECK(i["storno"] == 0);
      CHECK(ship[id]["shipment"] == 1);
      CHECK(msg[id]["message"] == 1);
    } else {
      // Cancelled: whatever was done was undone.
      CHECK(p["refund"] == p["charge"]);
      CHECK(i["storno"] == i["invoice"]);
      CHECK(ship[id]["cancel_shipment"] == ship[id]["shipment"]);
    }
  }
  // No effect belongs to an order the API does not know.
  for (auto* l : {&pay, &inv, &ship, &msg})
    for (auto& [id, ops] : *l)
      CHECK(orders.count(id) == 1);
}

inline std::map<std::string, std::map<std::string, int>>
shop::ledger(const std::string& provider) {
  return ledger_at(port, provider);
}

inline void
shop::check_exactly_once(const std::map<std::string, std::string>& orders) {
  check_exactly_once_at(port, orders);
}

/// Polls `check` every 20 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& check,
                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!check()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// Posts `n` orders from `threads` threads (order i with Idempotency-Key
/// `order-<i>`); returns the ids accepted. `unanswered`, if given, gets the
/// i of every order that was not answered 202 (a 503, or no answer).
inline std::vector<std::string> place_orders(
  shop& s, int n, int threads, const std::function<json(int)>& make_order,
  std::atomic<bool>* stop = nullptr, std::vector<int>* unanswered = nullptr) {
  std::mutex mtx;
  std::vector<std::string> ids;
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        if (stop && *stop)
          return;
        try {
          auto r = s.post("/v1/orders", make_order(i),
                          {{"Idempotency-Key", "order-" + std::to_string(i)}});
          std::lock_guard guard{mtx};
          if (r.status == 202)
            ids.push_back(json::parse(r.body)["id"]);
          else if (unanswered)
            unanswered->push_back(i);
        } catch (std::exception&) {
          // The node was killed under us: the order may or may not exist.
          std::lock_guard guard{mtx};
          if (unanswered)
            unanswered->push_back(i);
        }
      }
    });
  for (auto& t : pool)
    t.join();
  return ids;
}

/// Waits until message `id` has left `queued`/`sending` (30 s at most);
/// returns it as GET /v1/messages/{id} answers.
inline json message_settled(shop& s, const std::string& id) {
  json m;
  eventually(
    [&] {
      m = s.get("/v1/messages/" + id);
      return m["status"] != "queued" && m["status"] != "sending";
    },
    std::chrono::seconds{30});
  return m;
}

} // namespace kassa::test
