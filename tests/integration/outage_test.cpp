// A provider outage with orders in flight: the circuit opens, sagas park
// their step as durable jobs, a kill -9 and restart lose nothing, and when
// the provider is back every order completes with each charge once.

#include <csignal>
#include <set>

#include "support/shop.hpp"

using namespace kassa::test;

namespace {

json provider(shop& s, const std::string& name) {
  auto list = s.get("/v1/providers"); // outlives the loop below
  for (auto& p : list["providers"])
    if (p["name"] == name)
      return p;
  FAIL("no provider " << name << " in " << list.dump());
  return {};
}

/// Orders with a pending resume job, from GET /v1/jobs.
std::set<std::string> parked_orders(shop& s) {
  std::set<std::string> out;
  auto page = s.get("/v1/jobs?status=pending&limit=1000");
  for (auto& j : page["jobs"])
    if (j["kind"] == "resume_saga")
      out.insert(j["payload"]["saga_id"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("a payment outage parks orders as jobs, after a kill -9 and the "
          "outage's end every order completes, each charge once",
          "[orders][providers][chaos]") {
  // A small breaker and short timers keep the test short; the behaviour is
  // the production one.
  shop s{{"KASSA_PROVIDERS_BREAKER_MIN_CALLS=5",
          "KASSA_PROVIDERS_BREAKER_OPEN_MS=1500",
          "KASSA_PROVIDERS_RETRY_INITIAL_MS=20",
          "KASSA_PROVIDERS_RETRY_MAX_MS=50", "KASSA_JOBS_POLL_INTERVAL_MS=100",
          "KASSA_JOBS_LEASE_MS=2000"}};
  s.add_product("lamp", 100);
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"outage", true}}).status
    == 200);
  auto ids = place_orders(s, 50, 8, [](int) {
    return shop::order("lamp", "tok_ok");
  });
  REQUIRE(ids.size() == 50);

  // Every order waits on the payment step; each has a parked job.
  auto all_parked = [&] {
    auto waiting = s.get("/v1/orders?status=waiting&limit=500")["orders"];
    return waiting.size() == 50 && parked_orders(s).size() == 50;
  };
  REQUIRE(eventually(all_parked, 30s));
  auto o = s.get("/v1/orders/" + ids[7]);
  CHECK(o["steps"][0]["status"] == "done");    // reserve_stock
  CHECK(o["steps"][1]["status"] == "done");    // create_invoice
  CHECK(o["steps"][2]["status"] == "pending"); // charge_payment, parked
  CHECK(o["steps"][2]["error"].get<std::string>().rfind("circuit_open", 0)
        == 0);
  auto payment = provider(s, "sandbox-payment");
  CHECK(payment["state"] != "closed");
  CHECK(payment["deferred"].get<int>() >= 50);
  CHECK(s.ledger("sandbox-payment").empty());

  // The node dies during the outage; the outage outlives it.
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
  CHECK(provider(s, "sandbox-payment")["chaos"]["outage"] == true);
  CHECK(s.get("/v1/orders?status=waiting&limit=500")["orders"].size() == 50);
  // Still down after the restart: the orders keep waiting, nothing charged.
  std::this_thread::sleep_for(2s);
  CHECK(s.get("/v1/orders?status=waiting&limit=500")["orders"].size() == 50);
  CHECK(s.ledger("sandbox-payment").empty());

  // The provider comes back: nobody touches the orders.
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"outage", false}}).status
    == 200);
  REQUIRE(s.settle(60s));
  auto orders = s.statuses();
  REQUIRE(orders.size() == 50);
  for (auto& [id, status] : orders)
    CHECK(status == "completed");
  s.check_exactly_once(orders);
  CHECK(s.get("/v1/products/lamp")["stock"] == 50);
  CHECK(provider(s, "sandbox-payment")["state"] == "closed");
  CHECK(parked_orders(s).empty());

  // The circuit's changes are in the notification log under `providers`.
  std::multiset<std::string> changes;
  auto log = s.get("/v1/events?topic=providers&limit=1000");
  for (auto& e : log["events"]) {
    CHECK(e["data"]["provider"] == "sandbox-payment");
    changes.insert(e["event"].get<std::string>());
  }
  CHECK(changes.count("provider.circuit_opened") >= 1);
  CHECK(changes.count("provider.circuit_closed") >= 1);
}

TEST_CASE("GET /v1/jobs validates its query", "[jobs]") {
  shop s;
  CHECK(s.get("/v1/jobs")["jobs"].empty());
  for (auto bad : {"status=sleeping", "limit=0", "limit=abc", "after=-1"}) {
    auto r = http_get(s.port, std::string{"/v1/jobs?"} + bad, with_key());
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 422);
    CHECK(json::parse(r.body)["error"]["code"] == "invalid_field");
  }
}
