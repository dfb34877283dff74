#include <catch2/catch.hpp>

#include "runtime/backoff.hpp"

using namespace std::chrono_literals;
using namespace kassa;

TEST_CASE("exponential delay doubles and caps", "[backoff]") {
  CHECK(exponential_delay(100ms, 10s, 0) == 100ms);
  CHECK(exponential_delay(100ms, 10s, 1) == 200ms);
  CHECK(exponential_delay(100ms, 10s, 2) == 400ms);
  CHECK(exponential_delay(100ms, 10s, 6) == 6400ms);
  CHECK(exponential_delay(100ms, 10s, 7) == 10s);
  CHECK(exponential_delay(100ms, 10s, 4000000000u) == 10s);
  CHECK(exponential_delay(0ms, 10s, 3) == 0ms);
}

TEST_CASE("full jitter stays within [0, exponential delay]", "[backoff]") {
  for (uint32_t attempt = 0; attempt < 20; ++attempt) {
    auto cap = exponential_delay(50ms, 5s, attempt);
    CHECK(full_jitter_delay(50ms, 5s, attempt, 0.0) == 0ms);
    CHECK(full_jitter_delay(50ms, 5s, attempt, 0.999999) <= cap);
    CHECK(full_jitter_delay(50ms, 5s, attempt, 0.5).count() == cap.count() / 2);
    // Out-of-range draws are clamped, never exceed the cap.
    CHECK(full_jitter_delay(50ms, 5s, attempt, 7.0) == cap);
    CHECK(full_jitter_delay(50ms, 5s, attempt, -1.0) == 0ms);
  }
}

TEST_CASE("restart budget counts within a sliding window", "[backoff]") {
  restart_budget budget{3, 1000ms};
  auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  CHECK(budget.record(t0));
  CHECK(budget.record(t0 + 100ms));
  CHECK(budget.record(t0 + 200ms));
  CHECK_FALSE(budget.record(t0 + 300ms)); // 4 within 1 s
  restart_budget fresh{3, 1000ms};
  CHECK(fresh.record(t0));
  CHECK(fresh.record(t0 + 400ms));
  CHECK(fresh.record(t0 + 800ms));
  // The first one has left the window by now.
  CHECK(fresh.record(t0 + 1000ms));
  CHECK(fresh.recent() == 3);
}
