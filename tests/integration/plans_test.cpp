// Plans through a real node and PostgreSQL (issue 22): created, sent again
// unchanged (the same version), changed (a new version; the old one stays
// readable), listed; bad terms refused with the field at fault.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

json basic(int64_t amount = 2990) {
  return {{"id", "basic"},     {"name", "Basic"},     {"amount_minor", amount},
          {"currency", "EUR"}, {"interval", "month"}, {"trial_days", 14}};
}

} // namespace

TEST_CASE("plans are versioned: the same terms answer the same version, "
          "new terms make the next",
          "[plans]") {
  shop s;
  auto first = s.post("/v1/plans", basic());
  INFO(first.body);
  REQUIRE(first.status == 201);
  auto p = json::parse(first.body);
  CHECK(p["version"] == 1);
  CHECK(p["interval_count"] == 1);
  CHECK(p["setup_fee_minor"] == 0);
  CHECK(p["trial_days"] == 14);
  // Sent again: nothing new.
  auto again = s.post("/v1/plans", basic());
  CHECK(again.status == 200);
  CHECK(json::parse(again.body)["version"] == 1);
  // A price change: version 2; version 1 stays as it was.
  auto dearer = s.post("/v1/plans", basic(3490));
  REQUIRE(dearer.status == 201);
  CHECK(json::parse(dearer.body)["version"] == 2);
  auto latest = s.get("/v1/plans/basic");
  CHECK(latest["version"] == 2);
  CHECK(latest["amount_minor"] == 3490);
  CHECK(latest["versions"] == json::array({1, 2}));
  auto old = s.get("/v1/plans/basic?version=1");
  CHECK(old["amount_minor"] == 2990);
  CHECK(http_get(s.port, "/v1/plans/basic?version=3", with_key()).status
        == 404);
  CHECK(http_get(s.port, "/v1/plans/nope", with_key()).status == 404);
  // Listed by id, each at its latest version.
  auto pro = basic(9900);
  pro["id"] = "pro";
  pro["interval"] = "year";
  REQUIRE(s.post("/v1/plans", pro).status == 201);
  auto listed = s.get("/v1/plans")["plans"];
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["id"] == "basic");
  CHECK(listed[0]["version"] == 2);
  CHECK(listed[1]["id"] == "pro");
  auto paged = s.get("/v1/plans?limit=1");
  CHECK(paged["plans"].size() == 1);
  CHECK(paged["next_after"] == "basic");
  CHECK(s.get("/v1/plans?after=basic")["plans"][0]["id"] == "pro");
}

TEST_CASE("bad plans are refused with the field at fault and store nothing",
          "[plans]") {
  shop s;
  auto field_of = [&](json body) {
    auto r = s.post("/v1/plans", body);
    INFO(r.body);
    CHECK(r.status == 422);
    return json::parse(r.body)["error"].value("field", "");
  };
  auto with = [](const char* key, json value) {
    auto b = basic();
    b[key] = std::move(value);
    return b;
  };
  CHECK(field_of(with("interval", "fortnight")) == "interval");
  CHECK(field_of(with("interval_count", 0)) == "interval_count");
  CHECK(field_of(with("interval_count", 121)) == "interval_count");
  CHECK(field_of(with("currency", "eur")) == "currency");
  CHECK(field_of(with("amount_minor", -1)) == "amount_minor");
  CHECK(field_of(with("id", "no spaces")) == "id");
  CHECK(field_of(with("trial_days", 731)) == "trial_days");
  auto free = with("amount_minor", 0);
  free["trial_days"] = 0;
  CHECK(field_of(free) == "amount_minor");
  CHECK(s.post("/v1/plans", with("colour", "red")).status == 422);
  CHECK(s.get("/v1/plans")["plans"].empty());
}
