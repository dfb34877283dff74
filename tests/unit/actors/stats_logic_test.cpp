#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/stats_logic.hpp"
#include "runtime/json_text.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

constexpr int64_t t0 = 1'796'688'000'000; // 2026-12-07T00:00:00Z

stats_event ev(int64_t seq, std::string type, std::string order, json data,
               int64_t at_ms) {
  return {seq, std::move(type), std::move(order), data.dump(), at_ms};
}

const stats_cell& at(const stats_delta& d, int64_t hour, const char* metric,
                     const char* label, const char* currency) {
  auto i = d.cells.find({hour, metric, label, currency});
  REQUIRE(i != d.cells.end());
  return i->second;
}

} // namespace

TEST_CASE("latency buckets grow by a fifth and percentiles name the bucket",
          "[stats]") {
  CHECK(stats_bucket_bound(0) == 1);
  CHECK(stats_bucket_of(0) == 0);
  CHECK(stats_bucket_of(1) == 0);
  CHECK(stats_bucket_bound(stats_bucket_of(100)) >= 100);
  CHECK(stats_bucket_bound(stats_bucket_of(100)) < 120);
  CHECK(stats_bucket_of(1'000'000'000) == stats_buckets - 1);
  std::vector<int64_t> hist(stats_buckets, 0);
  CHECK(stats_percentile(hist, 0.5) == 0);
  hist[stats_bucket_of(10)] = 90;
  hist[stats_bucket_of(1000)] = 10;
  CHECK(stats_percentile(hist, 0.5) == stats_bucket_bound(stats_bucket_of(10)));
  CHECK(stats_percentile(hist, 0.9) == stats_bucket_bound(stats_bucket_of(10)));
  CHECK(stats_percentile(hist, 0.99)
        == stats_bucket_bound(stats_bucket_of(1000)));
}

TEST_CASE("orders revenue refunds and disputes are folded from the log by "
          "hour",
          "[stats]") {
  auto h = t0 + 10 * 3'600'000; // 10:00
  std::vector<stats_event> batch{
    ev(1, "order.created", "o1", {{"currency", "HUF"}, {"total_minor", 2000}},
       h + 1),
    ev(7, "order.completed", "o1", {}, h + 3'600'000), // the next hour
    ev(8, "refund.requested", "o1",
       {{"refund_id", "re_1"}, {"amount_minor", 500}}, h + 3'600'100),
    ev(9, "dispute.opened", "o2", {{"currency", "EUR"}, {"amount_minor", 700}},
       h + 3'600'200),
  };
  stats_batch first{batch};
  CHECK(first.needs().orders == std::set<std::string>{"o1"});
  CHECK(first.needs().marks.empty());
  std::map<std::string, order_facts> orders{{"o1", {2000, "HUF", h - 100}}};
  auto d = first.fold(orders, {});
  CHECK(at(d, h, "orders", "created", "HUF").count == 1);
  CHECK(at(d, h, "orders", "created", "HUF").sum_minor == 2000);
  auto next = h + 3'600'000;
  CHECK(at(d, next, "orders", "completed", "HUF").count == 1);
  CHECK(at(d, next, "revenue", "orders", "HUF").sum_minor == 2000);
  CHECK(at(d, next, "disputes", "opened", "EUR").sum_minor == 700);
  auto& latency = at(d, next, "saga_latency", "completed", "");
  CHECK(latency.hist[stats_bucket_of(3'600'100)] == 1);
  // Left open for a later batch: the refund's amount.
  REQUIRE(d.new_marks.size() == 1);
  CHECK(d.new_marks.at("r:o1:re_1").amount_minor == 500);

  // The next batch closes it with the stored mark.
  std::vector<stats_event> later{
    ev(11, "refund.succeeded", "o1", {{"refund_id", "re_1"}}, h + 3'700'000),
    ev(12, "invoice.created", "",
       {{"invoice", "sub_1.0"}, {"amount_minor", 990}, {"currency", "EUR"}},
       h + 3'700'000),
    ev(13, "invoice.paid", "", {{"invoice", "sub_1.0"}, {"amount_minor", 990}},
       h + 3'700'001),
  };
  stats_batch second{later};
  CHECK(second.needs().marks == std::set<std::string>{"r:o1:re_1"});
  auto d2 = second.fold(orders, d.new_marks);
  CHECK(d2.used_marks == second.needs().marks);
  CHECK(d2.new_marks.empty());
  CHECK(at(d2, next, "refunds", "", "HUF").sum_minor == 500);
  CHECK(at(d2, next, "revenue", "subscriptions", "EUR").sum_minor == 990);
}

TEST_CASE("provider calls tallied by the connections become cells of the "
          "hour",
          "[stats]") {
  call_recorder calls;
  calls.record("sandbox-payment", true, 20);
  calls.record("sandbox-payment", true, 30);
  calls.record("sandbox-payment", false, 3000);
  calls.record("billingo", true, 5);
  auto taken = calls.drain();
  CHECK(calls.drain().empty());
  calls.restore(taken); // a failed fold puts them back
  taken = calls.drain();
  REQUIRE(taken.size() == 2);
  stats_delta d;
  auto h = t0 + 5 * 3'600'000;
  add_calls(d, h + 1234, taken);
  CHECK(at(d, h, "provider", "sandbox-payment:succeeded", "").count == 2);
  CHECK(at(d, h, "provider", "sandbox-payment:failed", "").count == 1);
  auto& hist = at(d, h, "provider", "sandbox-payment:succeeded", "").hist;
  CHECK(hist[stats_bucket_of(3000)] == 1);
  CHECK(stats_percentile(hist, 0.5) == stats_bucket_bound(stats_bucket_of(30)));
  CHECK(at(d, h, "provider", "billingo:succeeded", "").count == 1);
}

TEST_CASE("the report sums periods and currencies and names rates and "
          "percentiles",
          "[stats]") {
  std::vector<int64_t> fast(stats_buckets, 0);
  fast[stats_bucket_of(20)] = 3;
  std::vector<stats_row> rows{
    {"2026-12-06", "orders", "created", "HUF", 4, 8000, {}},
    {"2026-12-06", "orders", "completed", "HUF", 3, 6000, {}},
    {"2026-12-06", "revenue", "orders", "HUF", 3, 6000, {}},
    {"2026-12-07", "orders", "cancelled", "HUF", 1, 2000, {}},
    {"2026-12-07", "refunds", "", "HUF", 1, 500, {}},
    {"2026-12-07", "provider", "sandbox-payment:succeeded", "", 3, 0, fast},
    {"2026-12-07", "provider", "sandbox-payment:failed", "", 1, 0, {}},
    {"2026-12-07", "disputes", "lost", "EUR", 1, 700, {}},
  };
  auto r = stats_report(rows, "2026-12-01", "2026-12-08", "day", 42);
  CHECK(r["as_of_seq"] == 42);
  CHECK(
    r["orders"]
    == json{{"created", 4}, {"completed", 3}, {"cancelled", 1}, {"failed", 0}});
  REQUIRE(r["revenue"].size() == 1);
  CHECK(r["revenue"][0]["orders_minor"] == 6000);
  CHECK(r["revenue"][0]["refunded_minor"] == 500);
  CHECK(r["revenue"][0]["net_minor"] == 5500);
  REQUIRE(r["providers"].size() == 1);
  CHECK(r["providers"][0]["provider"] == "sandbox-payment");
  CHECK(r["providers"][0]["success_rate"] == 0.75);
  CHECK(r["providers"][0]["latency_ms"]["p50"]
        == stats_bucket_bound(stats_bucket_of(20)));
  CHECK(r["disputes"]["lost"] == 1);
  CHECK(r["disputes"]["by_currency"][0]["lost_minor"] == 700);
  REQUIRE(r["series"].size() == 2);
  CHECK(r["series"][0]["period"] == "2026-12-06");
  CHECK(r["series"][0]["orders"]["completed"] == 3);
  CHECK(r["series"][0]["revenue"]["HUF"] == 6000);
  CHECK(r["series"][1]["orders"]["cancelled"] == 1);
}

TEST_CASE("json_member reads a top-level member without parsing the rest",
          "[stats][json]") {
  std::string_view d
    = R"({"attempt":2,"lines":[{"sku":"x","step":"inner"}],"nested":{"step":)"
      R"("no"},"note":"a \"step\": \"fake\"","step":"charge_payment","z":true})";
  CHECK(json_member(d, "step") == "charge_payment");
  CHECK(json_member_int(d, "attempt") == 2);
  CHECK(json_member(d, "z") == "true");
  CHECK(json_member(d, "lines").empty());
  CHECK(json_member(d, "sku").empty());
  CHECK(json_member(d, "missing").empty());
  CHECK(json_member_int(d, "step") == 0);
  CHECK(json_member(" { \"a\" : \"b\" , \"c\" : -5 } ", "c") == "-5");
  CHECK(json_member("not json", "a").empty());
  CHECK(json_member("{\"a\":", "a").empty());
  CHECK(json_member("", "a").empty());
}
