#include <catch2/catch.hpp>

#include "actors/billing_calendar.hpp"

using namespace kassa;
using namespace std::chrono;

namespace {

billing_time at(int y, unsigned m, unsigned d, int hour = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour};
}

billing_cycle every(billing_interval i, uint32_t count = 1) {
  return {i, count};
}

} // namespace

TEST_CASE("months are counted from the anchor's own day and clamped to "
          "shorter months",
          "[billing]") {
  auto monthly = every(billing_interval::month);
  auto jan31 = at(2027, 1, 31, 9);
  CHECK(period_start(jan31, monthly, 0) == jan31);
  CHECK(period_start(jan31, monthly, 1) == at(2027, 2, 28, 9));
  CHECK(period_start(jan31, monthly, 2) == at(2027, 3, 31, 9)); // not 28
  CHECK(period_start(jan31, monthly, 3) == at(2027, 4, 30, 9));
  CHECK(period_start(jan31, monthly, 11) == at(2027, 12, 31, 9));
  CHECK(period_start(jan31, monthly, 12) == at(2028, 1, 31, 9));
  CHECK(period_start(jan31, monthly, 13) == at(2028, 2, 29, 9)); // leap
  // Every three months, across a year's end.
  CHECK(period_start(at(2027, 11, 30), every(billing_interval::month, 3), 1)
        == at(2028, 2, 29));
  CHECK(period_start(at(2027, 11, 30), every(billing_interval::month, 3), 2)
        == at(2028, 5, 30));
}

TEST_CASE("years from 29 February fall on 28 February except in leap years",
          "[billing]") {
  auto yearly = every(billing_interval::year);
  auto leap = at(2028, 2, 29);
  CHECK(period_start(leap, yearly, 1) == at(2029, 2, 28));
  CHECK(period_start(leap, yearly, 3) == at(2031, 2, 28));
  CHECK(period_start(leap, yearly, 4) == at(2032, 2, 29));
  CHECK(period_start(at(2099, 3, 1), every(billing_interval::year, 2), 1)
        == at(2101, 3, 1));
}

TEST_CASE("days and weeks are fixed lengths times the count", "[billing]") {
  auto start = at(2027, 12, 30, 23);
  CHECK(period_start(start, every(billing_interval::day, 30), 1)
        == start + days{30});
  CHECK(period_start(start, every(billing_interval::week, 2), 3)
        == start + weeks{6});
  CHECK(period_start(start, every(billing_interval::day), 2)
        == at(2028, 1, 1, 23));
}

TEST_CASE("the period holding a moment: from its start, up to the next",
          "[billing]") {
  auto monthly = every(billing_interval::month);
  auto jan31 = at(2027, 1, 31);
  auto p = period_at(jan31, monthly, at(2027, 3, 15));
  CHECK(p.index == 1);
  CHECK(p.start == at(2027, 2, 28));
  CHECK(p.end == at(2027, 3, 31));
  // A boundary belongs to the period it starts.
  p = period_at(jan31, monthly, at(2027, 3, 31));
  CHECK(p.index == 2);
  p = period_at(jan31, monthly, at(2027, 3, 31) - seconds{1});
  CHECK(p.index == 1);
  // Far on, the estimate lands on the right one.
  for (uint64_t n : {0ull, 1ull, 47ull, 1200ull}) {
    auto start = period_start(jan31, monthly, n);
    CHECK(period_at(jan31, monthly, start).index == n);
    CHECK(period_at(jan31, monthly, start + hours{1}).index == n);
  }
  CHECK(period_at(jan31, monthly, jan31 - days{3}).index == 0);
}

TEST_CASE("proration is the unused share, rounded down", "[billing]") {
  auto start = at(2027, 4, 1);
  auto end = at(2027, 5, 1); // 30 days
  CHECK(prorate(3000, start, end, at(2027, 4, 16)) == 1500);
  CHECK(prorate(1000, start, end, at(2027, 4, 21)) == 333);
  CHECK(prorate(1000, start, end, start) == 1000);
  CHECK(prorate(1000, start, end, end) == 0);
  CHECK(prorate(1000, start, end, at(2027, 3, 1)) == 1000);
  CHECK(prorate(1000, end, start, at(2027, 4, 2)) == 0);
  // No overflow at a trillion minor units over a year.
  CHECK(prorate(1'000'000'000'000, at(2027, 1, 1), at(2028, 1, 1),
                at(2027, 7, 2, 12))
        == 500'000'000'000);
}

TEST_CASE("a dunning schedule: increasing delays after the first failure, "
          "then none",
          "[billing]") {
  std::string error;
  auto s = parse_dunning_schedule("1d,3d,5d,7d", error);
  REQUIRE(s);
  REQUIRE(s->after.size() == 4);
  auto failed = at(2027, 6, 1, 10);
  CHECK_FALSE(next_attempt(*s, failed, 0));
  CHECK(next_attempt(*s, failed, 1) == failed + days{1});
  CHECK(next_attempt(*s, failed, 4) == failed + days{7});
  CHECK_FALSE(next_attempt(*s, failed, 5)); // used up
  auto mixed = parse_dunning_schedule("30s,15m,2h", error);
  REQUIRE(mixed);
  CHECK(mixed->after[2] == hours{2});
  auto none = parse_dunning_schedule("", error);
  REQUIRE(none);
  CHECK_FALSE(next_attempt(*none, failed, 1));
  for (auto bad : {"1", "d", "0d", "-1d", "1w", "1d,1d", "3d,1d", "1d,,2d",
                   "366d", "1.5d", "1d,"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(parse_dunning_schedule(bad, error));
    CHECK_FALSE(error.empty());
  }
  CHECK(parse_billing_interval("month") == billing_interval::month);
  CHECK_FALSE(parse_billing_interval("fortnight"));
}
