// Statistics folded from the event log (issue 23): after a known mix of
// orders, GET /v1/stats answers the exact counts and sums.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

std::string place(shop& s, const std::string& token, int quantity) {
  auto r = s.post("/v1/orders", shop::order("lamp", token, quantity));
  INFO(r.body);
  REQUIRE(r.status == 202);
  return json::parse(r.body)["id"];
}

json provider(const json& stats, const std::string& name) {
  for (auto& p : stats["providers"])
    if (p["provider"] == name)
      return p;
  return nullptr;
}

} // namespace

TEST_CASE("after a known mix of orders the statistics have the exact counts "
          "and sums",
          "[stats]") {
  shop s;
  s.add_product("lamp", 100); // 1000 HUF each
  std::vector<std::string> ok;
  for (int i = 0; i < 3; ++i)
    ok.push_back(place(s, "tok_ok", 2));
  for (int i = 0; i < 2; ++i)
    place(s, "tok_decline", 1);
  REQUIRE(s.settle());
  header_list key{{"Idempotency-Key", "stats-refund"}};
  REQUIRE(
    s.post("/v1/orders/" + ok[0] + "/refunds", {{"amount_minor", 500}}, key)
      .status
    == 202);
  auto refunded = s.wait_for(
    ok[0],
    [](const json& o) {
      return o["refunded_minor"] == 500;
    },
    20s);
  REQUIRE(refunded["refunded_minor"] == 500);
  // As of the request: every event logged before it counts, no wait for
  // a timer (more may come after: the refund's credit note, its message).
  auto logged = std::stoll(s.db.scalar("SELECT last_seq FROM event_counter"));
  auto stats = s.get("/v1/stats");
  INFO(stats.dump(2));
  CHECK(stats["granularity"] == "day");
  CHECK(
    stats["orders"]
    == json{{"created", 5}, {"completed", 3}, {"cancelled", 2}, {"failed", 0}});
  REQUIRE(stats["revenue"].size() == 1);
  auto& huf = stats["revenue"][0];
  CHECK(huf["currency"] == "HUF");
  CHECK(huf["orders_minor"] == 6000);
  CHECK(huf["refunds"] == 1);
  CHECK(huf["refunded_minor"] == 500);
  CHECK(huf["net_minor"] == 5500);
  // The payment provider's calls: three charges and a refund answered,
  // two charges declined (a decline is an answer: the provider is healthy).
  auto charge = provider(stats, "sandbox-payment");
  REQUIRE(charge.is_object());
  CHECK(charge["succeeded"] == 6);
  CHECK(charge["failed"] == 0);
  CHECK(charge["success_rate"] == 1.0);
  CHECK(charge["latency_ms"]["count"] == 6);
  auto shipping = provider(stats, "sandbox-shipping");
  REQUIRE(shipping.is_object());
  CHECK(shipping["succeeded"] == 3);
  CHECK(stats["saga_latency_ms"]["count"] == 3);
  CHECK(stats["saga_latency_ms"]["p99"].get<int64_t>() >= 1);
  REQUIRE(stats["series"].size() == 1);
  CHECK(stats["series"][0]["orders"]["created"] == 5);
  CHECK(stats["series"][0]["revenue"]["HUF"] == 6000);
  CHECK(stats["as_of_seq"].get<int64_t>() >= logged);
  // Asked again, nothing counts twice.
  CHECK(s.get("/v1/stats")["orders"] == stats["orders"]);
  // By hour; a range before the orders is empty.
  CHECK(s.get("/v1/stats?granularity=hour")["orders"]["created"] == 5);
  auto before = s.get("/v1/stats?from=2020-01-01&to=2020-02-01");
  CHECK(before["orders"]["created"] == 0);
  CHECK(before["series"].empty());
  // Bad input names its field.
  auto bad = http_get(s.port, "/v1/stats?granularity=week", with_key());
  CHECK(bad.status == 422);
  CHECK(json::parse(bad.body)["error"]["field"] == "granularity");
  // A shape PostgreSQL would refuse is refused here, naming the field.
  for (auto from :
       {"yesterday", "2026-02-30", "2026-13-01", "2026-12-07T25:00:00Z",
        "2026-12-07T10:00:00+-:", "2026-12-07T10:00:00.Z"}) {
    INFO(from);
    bad = http_get(s.port, std::string{"/v1/stats?from="} + from, with_key());
    CHECK(bad.status == 422);
    CHECK(json::parse(bad.body)["error"]["field"] == "from");
  }
  // An empty or reversed range, or one too long for its granularity.
  for (auto range :
       {"from=2026-12-07&to=2026-12-07", "from=2026-12-08&to=2026-12-07",
        "from=2026-01-01&to=2026-12-31&granularity=hour",
        "from=2000-01-01&to=2026-01-01&granularity=day"}) {
    INFO(range);
    bad = http_get(s.port, std::string{"/v1/stats?"} + range, with_key());
    CHECK(bad.status == 422);
    CHECK(json::parse(bad.body)["error"]["field"] == "to");
  }
  for (auto to : {"2026-12-31T23:59:59.5Z", "2026-12-31T23:59:59%2B01:00"}) {
    INFO(to);
    CHECK(http_get(s.port, std::string{"/v1/stats?from=2026-01-01&to="} + to,
                   with_key())
            .status
          == 200);
  }
}
