// Providers that half-work (issue 25): every sandbox provider fails 40 % of
// its calls and answers in 150 ms. Orders keep flowing — slower, not
// stopped — each effect exactly once, and no connection is left half-open.

#include <csignal>

#include "support/shop.hpp"

using namespace kassa::test;

namespace {

/// Places `n` orders of one `sku` (Idempotency-Keys `<prefix>-<i>`).
void place(shop& s, const std::string& sku, int n, const std::string& prefix) {
  for (int i = 0; i < n; ++i)
    REQUIRE(s.post("/v1/orders", shop::order(sku, "tok_ok"),
                   {{"Idempotency-Key", prefix + "-" + std::to_string(i)}})
              .status
            == 202);
}

/// kill -9 and a restart on the same database (chaos settings, journal,
/// jobs and ledgers are all in it).
void crash_and_restart(shop& s) {
  s.node->signal(SIGKILL);
  REQUIRE(s.node->wait_exit(10s).has_value());
  s.start();
}

std::map<std::string, int> count_statuses(shop& s) {
  std::map<std::string, int> out;
  for (auto& [id, status] : s.statuses())
    ++out[status];
  return out;
}

} // namespace

TEST_CASE("with every provider failing 40 % of calls in 150 ms, 300 orders "
          "mostly complete within 120 s through a kill -9, each effect once",
          "[orders][providers][chaos][degraded]") {
  shop s{{"KASSA_JOBS_POLL_INTERVAL_MS=100"}};
  s.add_product("cup", 1000);
  for (auto provider : {"sandbox-payment", "sandbox-invoicing",
                        "sandbox-shipping", "sandbox-messaging"})
    REQUIRE(s.post(std::string{"/v1/providers/"} + provider + "/chaos",
                   {{"failure_rate", 0.4}, {"latency_ms", 150}})
              .status
            == 200);
  const int orders = 300;
  auto start = std::chrono::steady_clock::now();
  place(s, "cup", orders, "d");
  // The node dies with calls in flight and retries backing off.
  std::this_thread::sleep_for(1s);
  // The chaos was real: about 40 % of the attempts so far failed. (Read
  // before the crash: the restarted node's few calls are too few to say.)
  int calls = 0, errors = 0;
  auto before = s.get("/v1/providers"); // outlives the loop below
  for (auto& p : before["providers"]) {
    calls += p["calls"].get<int>();
    errors += p["errors"].get<int>();
  }
  INFO(before.dump());
  CHECK(calls >= 100);
  CHECK(errors * 4 >= calls);
  crash_and_restart(s);
  int completed = 0;
  while (std::chrono::steady_clock::now() - start < 120s) {
    completed = count_statuses(s)["completed"];
    if (completed >= orders * 95 / 100)
      break;
    std::this_thread::sleep_for(1s);
  }
  auto took = std::chrono::duration_cast<std::chrono::seconds>(
    std::chrono::steady_clock::now() - start);
  INFO("completed " << completed << " of " << orders << " after "
                    << took.count() << " s");
  WARN("completed " << completed << " of " << orders << " after "
                    << took.count() << " s");
  CHECK(completed >= orders * 95 / 100);
  // The rest end too (compensated or completed), with the chaos still on.
  CHECK(s.settle(300s));
  // A connection may still be retrying a call whose saga moved on (its
  // answer came too late); it drains.
  json providers;
  eventually(
    [&] {
      providers = s.get("/v1/providers");
      for (auto& p : providers["providers"])
        if (p["in_flight"] != 0 || p["state"] == "half_open")
          return false;
      return true;
    },
    30s);
  for (auto& p : providers["providers"]) {
    INFO(p.dump());
    CHECK(p["state"] != "half_open");
    CHECK(p["in_flight"] == 0);
  }
  s.check_exactly_once(s.statuses());
}

namespace {

/// Seconds into the day of an ISO 8601 UTC timestamp ("...T12:34:56.789Z").
double seconds_of_day(const std::string& ts) {
  auto t = ts.find('T');
  REQUIRE(t != std::string::npos);
  return std::stod(ts.substr(t + 1, 2)) * 3600
         + std::stod(ts.substr(t + 4, 2)) * 60 + std::stod(ts.substr(t + 7));
}

json provider_info(shop& s, const std::string& name) {
  auto list = s.get("/v1/providers");
  for (auto& p : list["providers"])
    if (p["name"] == name)
      return p;
  FAIL("no provider " << name);
  return {};
}

} // namespace

TEST_CASE("a provider down 30 s: parked sagas are told to come back in "
          "waves, not at once, and all complete once when it is back, through "
          "a kill -9",
          "[orders][providers][chaos][degraded]") {
  shop s{
    {"KASSA_JOBS_POLL_INTERVAL_MS=100", "KASSA_PROVIDERS_BREAKER_MIN_CALLS=5"}};
  s.add_product("pan", 1000);
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"outage", true}}).status
    == 200);
  auto start = std::chrono::steady_clock::now();
  const int orders = 60;
  place(s, "pan", orders, "o");
  // Every order parks on the payment step.
  auto pending = [&] {
    return s.get("/v1/jobs?status=pending&limit=1000")["jobs"];
  };
  auto deadline = start + 25s;
  while (pending().size() < orders
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  auto jobs = pending();
  REQUIRE(jobs.size() == orders);
  CHECK(provider_info(s, "sandbox-payment")["parked"].get<int>() >= orders / 2);
  // Their resume times are spread over waves: a few first, then more.
  std::vector<double> at;
  for (auto& j : jobs)
    at.push_back(seconds_of_day(j["run_at"].get<std::string>()));
  std::sort(at.begin(), at.end());
  INFO("resume times from " << at.front() << " to " << at.back());
  CHECK(at.back() - at.front() >= 1.0);
  auto first_wave = std::count_if(at.begin(), at.end(), [&](double x) {
    return x < at.front() + 0.25;
  });
  CHECK(first_wave <= 2 * 3); // breaker_probes (3), with slack for timing
  // The node dies during the outage; the parked jobs outlive it.
  crash_and_restart(s);
  CHECK(s.get("/v1/orders?status=waiting&limit=500")["orders"].size()
        == orders);
  // The outage lasts 30 s in all, then the provider is back.
  std::this_thread::sleep_until(start + 30s);
  REQUIRE(
    s.post("/v1/providers/sandbox-payment/chaos", {{"outage", false}}).status
    == 200);
  REQUIRE(s.settle(60s));
  auto statuses = s.statuses();
  REQUIRE(statuses.size() == orders);
  for (auto& [id, status] : statuses)
    CHECK(status == "completed");
  s.check_exactly_once(statuses);
  auto payment = provider_info(s, "sandbox-payment");
  CHECK(payment["state"] == "closed");
  CHECK(payment["parked"] == 0);
}

TEST_CASE("a provider that answers in 2 s: its connection's limit drops, no "
          "call times out, every order completes through a kill -9",
          "[orders][providers][chaos][degraded]") {
  // Shipping may have 10 calls out; a saga waits as long as its call needs
  // (queueing behind a lowered limit included).
  shop s{{"KASSA_PROVIDERS_OVERRIDES=sandbox-shipping.slow_call_ms=1000,"
          "sandbox-shipping.min_in_flight=2,sandbox-shipping.max_in_flight=10",
          "KASSA_ORDERS_CALL_TIMEOUT_MS=60000"}};
  s.add_product("pot", 1000);
  REQUIRE(s.post("/v1/providers/sandbox-shipping/chaos", {{"latency_ms", 2000}})
            .status
          == 200);
  CHECK(provider_info(s, "sandbox-shipping")["limit"] == 10);
  const int orders = 40;
  place(s, "pot", orders, "s");
  // Past the first wave of slow answers (the limit dropped), the node dies
  // with shipping calls in flight, and the new one learns the slowness anew.
  // (10–14 s for the whole test as a rule; a loaded CI machine once needed
  // more than 20 s for the first wave.)
  auto wait_until = std::chrono::steady_clock::now() + 45s;
  while (provider_info(s, "sandbox-shipping")["limit"].get<int>() == 10
         && std::chrono::steady_clock::now() < wait_until)
    std::this_thread::sleep_for(100ms);
  REQUIRE(provider_info(s, "sandbox-shipping")["limit"].get<int>() < 10);
  crash_and_restart(s);
  REQUIRE(s.settle(120s));
  auto statuses = s.statuses();
  for (auto& [id, status] : statuses)
    CHECK(status == "completed");
  s.check_exactly_once(statuses);
  auto shipping = provider_info(s, "sandbox-shipping");
  INFO(shipping.dump());
  CHECK(shipping["limit"].get<int>() < 10);
  CHECK(shipping["limit"].get<int>() >= 2);
  CHECK(shipping["errors"] == 0);        // no timeouts
  CHECK(shipping.contains("slow_rate")); // over the last window: now idle
  // The other connections were fast and kept their cap.
  CHECK(provider_info(s, "sandbox-payment")["limit"] == 64);
  auto m = http_get(s.port, "/metrics").body;
  CHECK(m.find("kassa_provider_outcomes_total{provider=\"sandbox-shipping\","
               "outcome=\"slow\"} ")
        != std::string::npos);
}
