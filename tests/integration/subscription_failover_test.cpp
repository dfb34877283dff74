// Subscriptions on two nodes (issue 22): a renewal wave with one node
// killed midway — its shards, and the jobs of its subscriptions, go to the
// other node, and every period still has exactly one invoice and one
// charge.

#include <csignal>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_cluster.hpp"

using namespace kassa::test;
using json = nlohmann::json;

TEST_CASE("a node killed during a renewal wave: the other renews its "
          "subscriptions and each period is billed once",
          "[subscriptions][cluster]") {
  test_cluster c{2, false};
  for (auto& node : c.nodes)
    node.env = {"KASSA_CLOCK_TEST_MODE=1", "KASSA_JOBS_LEASE_MS=2000"};
  for (auto& node : c.nodes)
    c.start(node);
  auto& n1 = c.nodes[0];
  auto& n2 = c.nodes[1];
  REQUIRE(c.balanced(n1, {"n1", "n2"}, 100));
  REQUIRE(c.post(n1, "/v1/plans",
                 {{"id", "monthly"},
                  {"name", "Monthly"},
                  {"amount_minor", 990},
                  {"currency", "EUR"},
                  {"interval", "month"}})
            .status
          == 201);
  // Twenty subscriptions made on each node (each in a shard of its own).
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    auto& via = i % 2 ? n2 : n1;
    auto r = c.post(via, "/v1/subscriptions",
                    {{"customer", "c" + std::to_string(i)},
                     {"plan", "monthly"},
                     {"payment", {{"token", "tok_ok"}}}});
    INFO(r.body);
    REQUIRE(r.status == 201);
    ids.push_back(json::parse(r.body)["id"]);
  }
  auto paid_periods = [&](const std::string& id) -> size_t {
    auto r = http_get(n1.port, "/v1/subscriptions/" + id, with_key());
    if (r.status != 200)
      return 0;
    size_t paid = 0;
    auto sub = json::parse(r.body); // outlives the loop
    for (auto& inv : sub["invoices"])
      paid += inv["status"] == "paid";
    return paid;
  };
  bool opened = eventually(
    [&] {
      for (auto& id : ids)
        if (paid_periods(id) < 1)
          return false;
      return true;
    },
    30s);
  REQUIRE(opened);
  // Charges answer slowly; both clocks move a month on; n2 dies while its
  // renewals' charges are under way.
  c.slow_providers(1500);
  for (auto& node : c.nodes)
    REQUIRE(
      c.post(node, "/v1/test_clock/advance", {{"seconds", 32 * 86400}}).status
      == 200);
  REQUIRE(eventually(
    [&] {
      return c.db.scalar("SELECT count(*) FROM sandbox_ledger WHERE op = "
                         "'charge'")
             != "40";
    },
    20s));
  n2.proc->signal(SIGKILL);
  REQUIRE(n2.proc->wait_exit(10s).has_value());
  for (auto provider :
       {"sandbox-payment", "sandbox-invoicing", "sandbox-messaging"})
    REQUIRE(c.post(n1, std::string{"/v1/providers/"} + provider + "/chaos",
                   {{"latency_ms", 0}})
              .status
            == 200);
  bool renewed = eventually(
    [&] {
      for (auto& id : ids)
        if (paid_periods(id) < 2)
          return false;
      return true;
    },
    90s);
  if (!renewed)
    UNSCOPED_INFO(n1.proc->output().substr(0, 4000));
  REQUIRE(renewed);
  // Exactly once: one invoice and one charge per subscription and period.
  CHECK(c.db.scalar("SELECT count(*) FROM sandbox_ledger WHERE op = 'charge'")
        == "80");
  CHECK(c.db.scalar("SELECT count(DISTINCT order_id) FROM sandbox_ledger "
                    "WHERE op = 'charge'")
        == "80");
  CHECK(c.db.scalar("SELECT count(*) FROM sandbox_ledger WHERE op = "
                    "'invoice'")
        == "80");
  CHECK(c.db.scalar("SELECT count(*) FROM jobs WHERE status = 'dead'") == "0");
  auto h = c.held(n1);
  CHECK(h["n1"] == 256);
}
