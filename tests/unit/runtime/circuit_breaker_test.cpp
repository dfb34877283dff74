#include <catch2/catch.hpp>

#include "runtime/circuit_breaker.hpp"

using namespace kassa;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

breaker_options opts(uint32_t min_calls, uint32_t probes) {
  breaker_options o;
  o.failure_ratio = 0.5;
  o.min_calls = min_calls;
  o.window = 10s;
  o.open_for = 5s;
  o.probes = probes;
  return o;
}

/// Admits a call and fails it at once.
void fail_one(circuit_breaker& b, circuit_breaker::time_point at) {
  auto p = b.acquire(at);
  REQUIRE(p);
  b.on_failure(*p, at);
}

void succeed_one(circuit_breaker& b, circuit_breaker::time_point at) {
  auto p = b.acquire(at);
  REQUIRE(p);
  b.on_success(*p, at);
}

} // namespace

TEST_CASE("the breaker opens on a failure ratio within the window",
          "[breaker]") {
  circuit_breaker b{opts(4, 2)};
  CHECK(b.state(t0) == breaker_state::closed);
  // Fewer than min_calls never open it.
  for (int i = 0; i < 3; ++i)
    fail_one(b, t0);
  CHECK(b.state(t0) == breaker_state::closed);
  CHECK(b.failure_rate(t0) == 1.0);
  fail_one(b, t0 + 1s); // 4 of 4 failed
  CHECK(b.state(t0 + 1s) == breaker_state::open);
  CHECK_FALSE(b.acquire(t0 + 2s));
  CHECK(b.reopens_at() == t0 + 6s);
}

TEST_CASE("old outcomes leave the window", "[breaker]") {
  circuit_breaker b{opts(4, 2)};
  for (int i = 0; i < 3; ++i)
    fail_one(b, t0);
  for (int i = 0; i < 3; ++i)
    succeed_one(b, t0 + 20s); // the failures are 20 s old by now
  fail_one(b, t0 + 20s);
  CHECK(b.state(t0 + 20s) == breaker_state::closed); // 1 of 4
  fail_one(b, t0 + 21s);                             // 2 of 5: still closed
  CHECK(b.state(t0 + 21s) == breaker_state::closed);
  fail_one(b, t0 + 21s); // 3 of 6: half -> open
  CHECK(b.state(t0 + 21s) == breaker_state::open);
}

TEST_CASE("half-open lets a few probes through, successes close it",
          "[breaker]") {
  circuit_breaker b{opts(2, 2)};
  fail_one(b, t0);
  fail_one(b, t0);
  REQUIRE(b.state(t0) == breaker_state::open);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  auto p1 = b.acquire(t0 + 5s);
  auto p2 = b.acquire(t0 + 5s);
  REQUIRE(p1);
  REQUIRE(p2);
  CHECK(p1->probe);
  CHECK_FALSE(b.acquire(t0 + 5s)); // only 2 probes at once
  CHECK(b.probes_in_flight() == 2);
  b.on_success(*p1, t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  b.on_success(*p2, t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::closed);
  auto p3 = b.acquire(t0 + 5s);
  REQUIRE(p3);
  CHECK_FALSE(p3->probe);
}

TEST_CASE("a failed probe opens the breaker again", "[breaker]") {
  circuit_breaker b{opts(2, 2)};
  fail_one(b, t0);
  fail_one(b, t0);
  fail_one(b, t0 + 6s); // a probe
  CHECK(b.state(t0 + 6s) == breaker_state::open);
  CHECK_FALSE(b.acquire(t0 + 10s));
  CHECK(b.acquire(t0 + 11s)); // open_for counted from the failed probe
  CHECK(to_string(b.state(t0 + 11s)) == "half_open");
}

TEST_CASE("late answers from before the circuit opened change nothing",
          "[breaker]") {
  circuit_breaker b{opts(2, 2)};
  // Calls admitted while closed, still in flight when it opens.
  auto late_ok = b.acquire(t0);
  auto late_bad = b.acquire(t0);
  REQUIRE(late_ok);
  REQUIRE(late_bad);
  fail_one(b, t0);
  fail_one(b, t0);
  REQUIRE(b.state(t0) == breaker_state::open);
  auto probe = b.acquire(t0 + 5s);
  REQUIRE(probe);
  // The old calls answer during half-open: neither closes nor reopens it,
  // and neither gives back a probe slot it never took.
  b.on_success(*late_ok, t0 + 5s);
  b.on_failure(*late_bad, t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  CHECK(b.probes_in_flight() == 1);
  b.release(*late_ok);
  CHECK(b.probes_in_flight() == 1);
  // And an answer to a probe of an earlier half-open period neither.
  b.on_failure(*probe, t0 + 5s);
  REQUIRE(b.state(t0 + 5s) == breaker_state::open);
  auto next = b.acquire(t0 + 10s);
  REQUIRE(next);
  b.on_success(*probe, t0 + 10s); // stale: must not count as a success
  CHECK(b.probes_in_flight() == 1);
  b.on_success(*next, t0 + 10s);
  CHECK(b.state(t0 + 10s) == breaker_state::half_open); // 1 of 2 probes
}

TEST_CASE("a cancelled probe gives its slot back and counts nothing",
          "[breaker]") {
  circuit_breaker b{opts(2, 1)};
  fail_one(b, t0);
  fail_one(b, t0);
  auto probe = b.acquire(t0 + 5s);
  REQUIRE(probe);
  CHECK_FALSE(b.acquire(t0 + 5s));
  b.release(*probe);
  CHECK(b.probes_in_flight() == 0);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  auto again = b.acquire(t0 + 5s);
  REQUIRE(again);
  b.on_success(*again, t0 + 5s);
  CHECK(b.state(t0 + 5s) == breaker_state::closed);
}

TEST_CASE("every permit handed back: a random walk never strands a probe "
          "slot",
          "[breaker]") {
  // Calls admitted in every state end in any order with any outcome; each
  // time the breaker is half-open with no call of its period in flight, a
  // probe must be available.
  circuit_breaker b{opts(4, 3)};
  std::vector<breaker_permit> in_flight;
  uint64_t seed = 12345;
  auto rnd = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  auto t = t0;
  for (int step = 0; step < 20000; ++step) {
    t += std::chrono::milliseconds(rnd(400));
    if (rnd(2) == 0 && in_flight.size() < 20) {
      if (auto p = b.acquire(t))
        in_flight.push_back(*p);
    } else if (!in_flight.empty()) {
      auto i = rnd(in_flight.size());
      auto p = in_flight[i];
      in_flight.erase(in_flight.begin() + static_cast<long>(i));
      switch (rnd(3)) {
        case 0:
          b.on_success(p, t);
          break;
        case 1:
          b.on_failure(p, t);
          break;
        default:
          b.release(p);
      }
    }
    if (b.state(t) == breaker_state::half_open) {
      size_t probes = 0;
      for (auto& p : in_flight)
        probes += b.current(p) && p.probe;
      REQUIRE(b.probes_in_flight() == probes);
    }
  }
}

TEST_CASE("refused callers come back in growing waves, oldest first",
          "[breaker]") {
  auto o = opts(2, 2);
  o.ramp_step = 500ms;
  circuit_breaker b{o};
  fail_one(b, t0);
  fail_one(b, t0);
  std::vector<circuit_breaker::time_point> at;
  for (int i = 0; i < 14; ++i)
    at.push_back(b.next_resume_at());
  // 2 at reopen, then 4, then 8 — each wave a ramp step later.
  CHECK(at[0] == t0 + 5s);
  CHECK(at[1] == t0 + 5s);
  CHECK(at[2] == t0 + 5500ms);
  CHECK(at[5] == t0 + 5500ms);
  CHECK(at[6] == t0 + 6s);
  CHECK(at[13] == t0 + 6s);
  CHECK(b.next_resume_at() == t0 + 6500ms);
  // A new open period starts the ramp again.
  fail_one(b, t0 + 5s); // a failed probe
  CHECK(b.next_resume_at() == t0 + 10s);
}

TEST_CASE("slow calls are counted and may open the breaker", "[breaker]") {
  auto o = opts(4, 2);
  o.slow_call = 1s;
  o.slow_ratio = 0.75;
  circuit_breaker b{o};
  for (int i = 0; i < 3; ++i) {
    auto p = b.acquire(t0);
    b.on_success(*p, t0, 2s);
  }
  CHECK(b.slow_rate(t0) == 1.0);
  CHECK(b.failure_rate(t0) == 0.0);
  CHECK(b.state(t0) == breaker_state::closed); // under min_calls
  auto p = b.acquire(t0);
  b.on_success(*p, t0, 1500ms);
  CHECK(b.state(t0) == breaker_state::open);
  // Without a slow ratio they are only reported.
  o.slow_ratio = 0;
  circuit_breaker quiet{o};
  for (int i = 0; i < 10; ++i) {
    auto q = quiet.acquire(t0);
    quiet.on_success(*q, t0, 5s);
  }
  CHECK(quiet.state(t0) == breaker_state::closed);
  CHECK(quiet.slow_rate(t0) == 1.0);
}
