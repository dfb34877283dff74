#include <catch2/catch.hpp>

#include "runtime/scheduler.hpp"

using namespace kassa;
using namespace std::chrono_literals;

TEST_CASE("a failed job is retried with jittered backoff, then dead",
          "[scheduler]") {
  scheduler_options o;
  o.max_attempts = 4;
  o.retry_initial = 1000ms;
  o.retry_max = 5000ms;
  o.poll_interval = 200ms;
  // Full jitter: anywhere from the poll interval up to the exponential cap.
  auto low = job_failure_outcome(o, 1, "e", 0.0);
  CHECK(low.kind == job_outcome::retry);
  CHECK(low.delay == 200ms);
  CHECK(low.error == "e");
  CHECK(job_failure_outcome(o, 1, "e", 0.999).delay <= 1000ms);
  CHECK(job_failure_outcome(o, 2, "e", 0.999).delay <= 2000ms);
  CHECK(job_failure_outcome(o, 2, "e", 0.999).delay > 1000ms);
  CHECK(job_failure_outcome(o, 3, "e", 0.999).delay <= 4000ms);
  auto dead = job_failure_outcome(o, 4, "still failing", 0.5);
  CHECK(dead.kind == job_outcome::dead);
  CHECK(dead.error == "still failing");
}
