#include <catch2/catch.hpp>

#include "runtime/adaptive_limit.hpp"

using namespace kassa;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

adaptive_limit_options opts() {
  adaptive_limit_options o;
  o.min = 2;
  o.max = 20;
  o.backoff = 0.5;
  o.slow = 1s;
  return o;
}

} // namespace

TEST_CASE("a healthy provider keeps the configured cap", "[limit]") {
  adaptive_limit l{opts()};
  CHECK(l.limit() == 20);
  for (int i = 0; i < 1000; ++i)
    l.on_sample(t0 + i * 10ms, 20ms, false, 19);
  CHECK(l.limit() == 20);
}

TEST_CASE("drops halve the limit once a round trip, down to the minimum",
          "[limit]") {
  adaptive_limit l{opts()};
  // Ten calls out together all time out at once: one decrease.
  for (int i = 0; i < 10; ++i)
    l.on_sample(t0, 3s, true, 9);
  CHECK(l.limit() == 10);
  // A round trip later, the next wave: another.
  l.on_sample(t0 + 3s, 3s, true, 5);
  CHECK(l.limit() == 5);
  l.on_sample(t0 + 6s, 3s, true, 2);
  l.on_sample(t0 + 9s, 3s, true, 1);
  l.on_sample(t0 + 12s, 3s, true, 1);
  CHECK(l.limit() == 2); // the floor
}

TEST_CASE("slow calls count as drops, fast ones that use the limit grow it",
          "[limit]") {
  adaptive_limit l{opts()};
  l.on_sample(t0, 2s, false, 10); // slow: a drop
  CHECK(l.limit() == 10);
  // Fast again, but with few calls out the limit does not grow: nothing
  // shows that more would help.
  for (int i = 0; i < 10; ++i)
    l.on_sample(t0 + 3s, 20ms, false, 1);
  CHECK(l.limit() == 10);
  // With the limit in use it grows by one a call, up to the cap.
  for (int i = 0; i < 30; ++i)
    l.on_sample(t0 + 3s, 20ms, false, l.limit() - 1);
  CHECK(l.limit() == 20);
}

TEST_CASE("a late and a lost call both shrink the limit, the floor holds",
          "[limit]") {
  auto o = opts();
  o.min = 0; // clamped to 1
  o.slow = 0ms;
  adaptive_limit l{o};
  l.on_sample(t0, 5s, true, 0); // lost: the timeout
  CHECK(l.limit() == 10);
  l.on_sample(t0 + 1s, 5s, false, 0); // late but not slow (no threshold)
  CHECK(l.limit() == 10);
  for (int i = 1; i < 20; ++i)
    l.on_sample(t0 + i * 10s, 5s, true, 0);
  CHECK(l.limit() == 1);
}
