#include "runtime/backoff.hpp"

#include <algorithm>

namespace kassa {

millis exponential_delay(millis initial, millis max, uint32_t attempt) {
  if (initial.count() <= 0)
    return millis{0};
  // Shift until the cap is reached; avoids overflow for large attempts.
  auto delay = initial;
  for (uint32_t i = 0; i < attempt && delay < max; ++i)
    delay *= 2;
  return std::min(delay, max);
}

millis full_jitter_delay(millis initial, millis max, uint32_t attempt,
                         double unit) {
  auto cap = exponential_delay(initial, max, attempt);
  unit = std::clamp(unit, 0.0, 1.0);
  auto drawn = static_cast<int64_t>(static_cast<double>(cap.count()) * unit);
  return millis{std::min<int64_t>(drawn, cap.count())};
}

bool restart_budget::record(time_point now) {
  while (!times_.empty() && now - times_.front() >= window_)
    times_.pop_front();
  times_.push_back(now);
  return times_.size() <= max_events_;
}

} // namespace kassa
