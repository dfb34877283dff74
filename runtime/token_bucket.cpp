#include "runtime/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace kassa {

void token_bucket::refill(time_point now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_)
    return;
  std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  last_ = now;
}

bool token_bucket::try_take(time_point now) {
  if (rate_ <= 0)
    return true;
  refill(now);
  if (tokens_ < 1)
    return false;
  tokens_ -= 1;
  return true;
}

millis token_bucket::wait_time(time_point now) {
  if (rate_ <= 0)
    return millis{0};
  refill(now);
  if (tokens_ >= 1)
    return millis{0};
  // Round up: waking a little late is fine, waking early wastes a turn.
  auto ms = std::ceil((1 - tokens_) / rate_ * 1000.0);
  return millis{static_cast<int64_t>(std::max(1.0, ms))};
}

} // namespace kassa
