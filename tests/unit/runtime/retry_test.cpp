#include <catch2/catch.hpp>

#include "runtime/retry.hpp"

using namespace kassa;
using namespace std::chrono_literals;

TEST_CASE("retry delays use full jitter under the exponential cap", "[retry]") {
  retry_policy p{6, 100ms, 2000ms, 60s};
  // attempt n failed: the cap is initial * 2^(n-1), at most max.
  CHECK(next_retry_delay(p, 1, 0ms, 0.999) <= 100ms);
  CHECK(next_retry_delay(p, 2, 0ms, 0.999) <= 200ms);
  CHECK(next_retry_delay(p, 5, 0ms, 0.999) <= 1600ms);
  CHECK(next_retry_delay(p, 5, 0ms, 0.5) == 800ms);
  CHECK(next_retry_delay(p, 1, 0ms, 0.0) == 0ms);
  // Out of attempts.
  CHECK_FALSE(next_retry_delay(p, 6, 0ms, 0.5));
}

TEST_CASE("retry honours Retry-After and the deadline", "[retry]") {
  retry_policy p{10, 100ms, 2000ms, 10s};
  CHECK(next_retry_delay(p, 1, 0ms, 0.5, 3000ms) == 3000ms);
  CHECK(next_retry_delay(p, 1, 0ms, 0.5, 10ms) == 50ms);
  CHECK_FALSE(next_retry_delay(p, 1, 9s, 0.5, 3000ms)); // past the deadline
  CHECK(next_retry_delay(p, 1, 9s, 0.5) == 50ms);
}

TEST_CASE("Retry-After parses seconds and HTTP dates", "[retry]") {
  auto now = std::chrono::system_clock::from_time_t(1445412480); // 07:28:00
  CHECK(parse_retry_after("120", now) == 120000ms);
  CHECK(parse_retry_after(" 0 ", now) == 0ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30000ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0ms);
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("12s", now));
}
