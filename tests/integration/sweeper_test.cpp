// No saga is left behind (issue 26): a saga actor forced past its restart
// budget is dropped by its supervisor; the sweeper finds its live saga in
// the database and drives it again from the journal.

#include "support/shop.hpp"

using namespace kassa::test;

TEST_CASE("a saga dropped past its restart budget is driven again by the "
          "sweeper and completes once",
          "[orders][sweeper]") {
  shop s{
    {"KASSA_DEBUG_FAULT_SWITCHES=true", "KASSA_ORDERS_SWEEP_INTERVAL_MS=500"}};
  s.add_product("kettle", 10);
  REQUIRE(s.post("/v1/debug/faults", {{"fault", "saga_crash"}}).status == 202);
  auto order = shop::order("kettle", "tok_ok");
  order["customer"]["id"] = "crash-1"; // the switch crashes this one's saga
  auto placed = s.post("/v1/orders", order, {{"Idempotency-Key", "sw-1"}});
  REQUIRE(placed.status == 202);
  auto id = json::parse(placed.body)["id"].get<std::string>();
  // Five restarts in a minute, then the `sagas` supervisor gives up on it
  // (100 + 200 + 400 + 800 + 1600 ms of backoff).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (s.node->output().find("restart limit exceeded, child dropped")
           == std::string::npos
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  REQUIRE(s.node->output().find("restart limit exceeded, child dropped")
          != std::string::npos);
  // Meanwhile the sweeper found it live with no actor and started it again
  // — and it crashed again: while the fault lasts it cannot finish.
  auto o = s.get("/v1/orders/" + id);
  CHECK(o["status"] != "completed");
  // The fault is gone: the next sweep drives it to the end.
  REQUIRE(s.post("/v1/debug/faults", {{"fault", "saga_heal"}}).status == 202);
  o = s.wait_for(
    id,
    [](const json& x) {
      return x["status"] == "completed";
    },
    30s);
  CHECK(o["status"] == "completed");
  CHECK(s.node->output().find("live saga had no actor; driving it again")
        != std::string::npos);
  auto m = http_get(s.port, "/metrics").body;
  CHECK(m.find("kassa_sagas_revived_total ") != std::string::npos);
  CHECK(m.find("kassa_sagas_revived_total 0\n") == std::string::npos);
  s.check_exactly_once(s.statuses());
}

TEST_CASE("a saga that stops every time it is driven is given up after "
          "orders.max_revivals revivals: failed with the reason, not left "
          "running",
          "[orders][sweeper]") {
  shop s{{"KASSA_DEBUG_FAULT_SWITCHES=true",
          "KASSA_ORDERS_SWEEP_INTERVAL_MS=300", "KASSA_ORDERS_MAX_REVIVALS=1"}};
  s.add_product("kettle", 10);
  REQUIRE(s.post("/v1/debug/faults", {{"fault", "saga_crash"}}).status == 202);
  auto order = shop::order("kettle", "tok_ok");
  order["customer"]["id"] = "crash-forever";
  auto placed = s.post("/v1/orders", order, {{"Idempotency-Key", "sw-2"}});
  REQUIRE(placed.status == 202);
  auto id = json::parse(placed.body)["id"].get<std::string>();
  // A healthy order beside it is not touched.
  auto fine = s.post("/v1/orders", shop::order("kettle", "tok_ok"),
                     {{"Idempotency-Key", "sw-3"}});
  REQUIRE(fine.status == 202);
  // Dropped (about 3 s of backoff), revived once, dropped again: given up.
  auto o = s.wait_for(
    id,
    [](const json& x) {
      return x["status"] == "failed";
    },
    40s);
  INFO(o.dump());
  CHECK(o["status"] == "failed");
  auto log = s.node->output();
  CHECK(log.find("saga given up and marked failed") != std::string::npos);
  CHECK(log.find("live saga had no actor; driving it again")
        != std::string::npos);
  // The reason is in its journal, for the API and for subscribers.
  auto events = s.db.scalar("SELECT string_agg(data::text, ' ') FROM "
                            "event_entries WHERE order_id = '"
                            + id + "'");
  CHECK(events.find("\"given_up\":true") != std::string::npos);
  CHECK(events.find("could not be driven") != std::string::npos);
  CHECK(s.settle(10s)); // nothing left running
  CHECK(s.get("/v1/orders/"
              + json::parse(fine.body)["id"].get<std::string>())["status"]
        == "completed");
  auto m = http_get(s.port, "/metrics").body;
  CHECK(m.find("kassa_sagas_given_up_total 1\n") != std::string::npos);
}
