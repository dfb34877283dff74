#pragma once

// Several real node processes on one test database, each with its cluster
// link on a port of its own (tests/integration/cluster*_test.cpp).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/shop.hpp"
#include "support/test_database.hpp"

namespace kassa::test {

using namespace std::chrono_literals;

/// One node of a test cluster.
struct cluster_node {
  std::string id;
  uint16_t port = free_port();
  std::unique_ptr<process> proc;
  /// The database URL it uses, if not the cluster's (through a proxy).
  std::string database_url = {};
  /// Its cluster link's port, and the host:port it tells the others to
  /// dial, if not that one (a proxy in front of it).
  uint16_t cluster_port = free_port();
  std::string advertise = {};
  /// More KASSA_ variables (TLS files, ...).
  std::vector<std::string> env = {};
};

/// The port of a libpq URI (postgresql://user@host:PORT/db).
inline uint16_t port_of(const std::string& url) {
  auto slash = url.rfind('/');
  auto colon = url.rfind(':', slash);
  return static_cast<uint16_t>(
    std::stoi(url.substr(colon + 1, slash - colon - 1)));
}

/// `url` with its port replaced.
inline std::string with_port(const std::string& url, uint16_t port) {
  auto slash = url.rfind('/');
  auto colon = url.rfind(':', slash);
  return url.substr(0, colon + 1) + std::to_string(port) + url.substr(slash);
}

/// Nodes on one test database.
struct test_cluster {
  test_database db;
  std::vector<cluster_node> nodes;

  explicit test_cluster(size_t n, bool start_all = true) {
    for (size_t i = 0; i < n; ++i)
      nodes.push_back(
        cluster_node{"n" + std::to_string(i + 1), free_port(), {}});
    if (start_all)
      for (auto& node : nodes)
        start(node);
  }

  void start(cluster_node& node) {
    std::vector<std::string> env{"KASSA_CLUSTER_SETTLE_MS=300",
                                 "KASSA_JOBS_POLL_INTERVAL_MS=100",
                                 "KASSA_DATABASE_POOL_SIZE=4"};
    if (!node.advertise.empty())
      env.push_back("KASSA_CLUSTER_ADVERTISE=" + node.advertise);
    env.insert(env.end(), node.env.begin(), node.env.end());
    node.proc = std::make_unique<process>(
      std::vector<std::string>{
        "serve", "--http-port", std::to_string(node.port), "--node-id", node.id,
        "--cluster-port", std::to_string(node.cluster_port)},
      node_env(node.database_url.empty() ? db.url() : node.database_url,
               std::move(env)));
    if (!node.proc->wait_healthy(node.port))
      FAIL("node " << node.id << " did not start:\n" << node.proc->output());
  }

  http_reply post(const cluster_node& node, const std::string& path,
                  const nlohmann::json& body, header_list extra = {}) {
    extra.emplace_back("Content-Type", "application/json");
    return http_request(node.port, "POST", path, with_key(extra), body.dump());
  }

  nlohmann::json cluster_view(const cluster_node& via) {
    auto r = http_get(via.port, "/v1/cluster", with_key());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return nlohmann::json::parse(r.body);
  }

  /// Shards held per node name, as the database says.
  std::map<std::string, size_t> held(const cluster_node& via) {
    std::map<std::string, size_t> out;
    auto view = cluster_view(via);
    for (auto& n : view["nodes"])
      out[n["name"].get<std::string>()] = n["shards"].size();
    return out;
  }

  /// How `via` sees its link to `peer` ("connected", "unreachable", ...;
  /// "" when it lists none).
  std::string link_state(const cluster_node& via, const std::string& peer) {
    auto view = cluster_view(via); // outlives the loop
    for (auto& n : view["nodes"])
      if (n["name"] == peer && n["link"].is_object())
        return n["link"]["state"].get<std::string>();
    return {};
  }

  /// Every held lease as `shard -> owner@epoch`.
  std::map<int, std::string> leases(const cluster_node& via) {
    std::map<int, std::string> out;
    auto view = cluster_view(via); // outlives the loop
    for (auto& l : view["leases"])
      if (l["owner"].is_string())
        out[l["shard"].get<int>()]
          = l["owner"].get<std::string>() + "@"
            + std::to_string(l["epoch"].get<int64_t>());
    return out;
  }

  /// Waits until each of `names` holds at least `at_least` shards.
  bool balanced(const cluster_node& via, const std::vector<std::string>& names,
                size_t at_least, std::chrono::milliseconds timeout = 30s) {
    std::map<std::string, size_t> h;
    auto ok = eventually(
      [&] {
        h = held(via);
        for (auto& name : names)
          if (h[name] < at_least)
            return false;
        return true;
      },
      timeout);
    if (!ok)
      UNSCOPED_INFO(cluster_view(via)["nodes"].dump());
    return ok;
  }

  bool settle(std::chrono::seconds timeout) {
    bool ok = eventually(
      [&] {
        return db.scalar("SELECT count(*) FROM sagas WHERE status NOT IN "
                         "('completed','cancelled','failed')")
               == "0";
      },
      timeout);
    if (!ok) {
      // What did not finish, and what the nodes said last (a failure in a
      // full run is hard to reproduce alone).
      UNSCOPED_INFO("unfinished sagas: " << db.scalar(
                      "SELECT string_agg(id || ' ' || status, ', ') FROM "
                      "(SELECT id, status FROM sagas WHERE status NOT IN "
                      "('completed','cancelled','failed') LIMIT 20) AS s"));
      for (auto& node : nodes)
        if (node.proc) {
          auto out = node.proc->output();
          UNSCOPED_INFO(
            "node " << node.id << " output (tail):\n"
                    << out.substr(out.size() > 6000 ? out.size() - 6000 : 0));
        }
    }
    return ok;
  }

  /// The product every order here buys, plenty of it.
  void add_mugs(const cluster_node& via) {
    REQUIRE(post(via, "/v1/products",
                 {{"sku", "mug"},
                  {"name", "mug"},
                  {"price_minor", 1000},
                  {"currency", "HUF"},
                  {"stock", 100000}})
              .status
            == 201);
  }

  void slow_providers(int latency_ms) {
    for (auto& node : nodes)
      for (auto provider : {"sandbox-payment", "sandbox-invoicing",
                            "sandbox-shipping", "sandbox-messaging"})
        REQUIRE(post(node, std::string{"/v1/providers/"} + provider + "/chaos",
                     {{"latency_ms", latency_ms}})
                  .status
                == 200);
  }
};

} // namespace kassa::test
