#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace kassa {

using millis = std::chrono::milliseconds;

/// Exponential backoff: initial * 2^attempt, capped at `max` (attempt 0 is
/// the first retry). Plain arithmetic so it is tested without a clock.
millis exponential_delay(millis initial, millis max, uint32_t attempt);

/// "Full jitter" (AWS architecture blog): a uniform draw from
/// [0, exponential_delay]. `unit` is a random number in [0, 1).
millis full_jitter_delay(millis initial, millis max, uint32_t attempt,
                         double unit);

/// Counts events in a sliding window and says when more than `max_events`
/// happened within `window` — a supervisor's restart budget.
class restart_budget {
public:
  using time_point = std::chrono::steady_clock::time_point;

  restart_budget(uint32_t max_events, millis window)
    : max_events_(max_events), window_(window) {}

  /// Records one event at `now`; returns false once the budget is exceeded.
  bool record(time_point now);

  /// Events still inside the window as of the last `record`.
  size_t recent() const {
    return times_.size();
  }

private:
  uint32_t max_events_;
  millis window_;
  std::deque<time_point> times_;
};

} // namespace kassa
