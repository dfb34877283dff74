#include <catch2/catch.hpp>

#include "runtime/circuit_breaker.hpp"

using namespace kassa;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

} // namespace

TEST_CASE("the breaker opens on a failure ratio within the window",
          "[breaker]") {
  circuit_breaker b{{0.5, 4, 10s, 5s, 2}};
  CHECK(b.state(t0) == breaker_state::closed);
  // Fewer than min_calls never open it.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(b.allow(t0));
    b.on_failure(t0);
  }
  CHECK(b.state(t0) == breaker_state::closed);
  REQUIRE(b.allow(t0));
  b.on_failure(t0 + 1s); // 4 of 4 failed
  CHECK(b.state(t0 + 1s) == breaker_state::open);
  CHECK_FALSE(b.allow(t0 + 2s));
  CHECK(b.reopens_at() == t0 + 6s);
}

TEST_CASE("old outcomes leave the window", "[breaker]") {
  circuit_breaker b{{0.5, 4, 10s, 5s, 2}};
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  for (int i = 0; i < 3; ++i)
    b.on_success(t0 + 20s); // the failures are 20 s old by now
  b.on_failure(t0 + 20s);
  CHECK(b.state(t0 + 20s) == breaker_state::closed); // 1 of 4
  b.on_failure(t0 + 21s);                            // 2 of 5: still closed
  CHECK(b.state(t0 + 21s) == breaker_state::closed);
  b.on_failure(t0 + 21s); // 3 of 6: half -> open
  CHECK(b.state(t0 + 21s) == breaker_state::open);
}

TEST_CASE("half-open lets a few probes through; successes close it",
          "[breaker]") {
  circuit_breaker b{{0.5, 2, 10s, 5s, 2}};
  b.on_failure(t0);
  b.on_failure(t0);
  REQUIRE(b.state(t0) == breaker_state::open);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  CHECK(b.allow(t0 + 5s));
  CHECK(b.allow(t0 + 5s));
  CHECK_FALSE(b.allow(t0 + 5s)); // only 2 probes at once
  b.on_success(t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  b.on_success(t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::closed);
  CHECK(b.allow(t0 + 5s));
}

TEST_CASE("a failed probe opens the breaker again", "[breaker]") {
  circuit_breaker b{{0.5, 2, 10s, 5s, 2}};
  b.on_failure(t0);
  b.on_failure(t0);
  REQUIRE(b.allow(t0 + 6s));
  b.on_failure(t0 + 6s);
  CHECK(b.state(t0 + 6s) == breaker_state::open);
  CHECK_FALSE(b.allow(t0 + 10s));
  CHECK(b.allow(t0 + 11s)); // open_for counted from the failed probe
  CHECK(to_string(b.state(t0 + 11s)) == "half_open");
}
