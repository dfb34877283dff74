#include <catch2/catch.hpp>

#include "runtime/token_bucket.hpp"

using namespace kassa;
using namespace std::chrono_literals;

TEST_CASE("a token bucket allows a burst, then the rate", "[token_bucket]") {
  token_bucket b{10, 2}; // 10 per second, 2 at once
  std::chrono::steady_clock::time_point t{};
  CHECK(b.try_take(t));
  CHECK(b.try_take(t));
  CHECK_FALSE(b.try_take(t));
  CHECK(b.wait_time(t) == 100ms);
  CHECK(b.wait_time(t + 50ms) == 50ms);
  CHECK_FALSE(b.try_take(t + 50ms));
  CHECK(b.try_take(t + 100ms));
  CHECK_FALSE(b.try_take(t + 100ms));
  // A long quiet spell refills only up to the burst.
  CHECK(b.try_take(t + 10s));
  CHECK(b.try_take(t + 10s));
  CHECK_FALSE(b.try_take(t + 10s));
}

TEST_CASE("a token bucket with rate 0 never limits", "[token_bucket]") {
  token_bucket b;
  std::chrono::steady_clock::time_point t{};
  for (int i = 0; i < 1000; ++i)
    CHECK(b.try_take(t));
  CHECK(b.wait_time(t) == 0ms);
}
