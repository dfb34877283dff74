#include "runtime/adaptive_limit.hpp"

#include <algorithm>
#include <cmath>

namespace kassa {

adaptive_limit::adaptive_limit(adaptive_limit_options options)
  : options_(options) {
  options_.max = std::max<uint32_t>(options_.max, 1);
  options_.min = std::clamp<uint32_t>(options_.min, 1, options_.max);
  limit_ = options_.max;
}

void adaptive_limit::on_sample(time_point now, millis took, bool dropped,
                               uint32_t in_flight) {
  if (options_.slow.count() > 0 && took >= options_.slow)
    dropped = true;
  if (dropped) {
    // One decrease per round trip: the calls that were out together when
    // the provider got slow report it together.
    if (now - last_decrease_ < took && last_decrease_ != time_point{})
      return;
    last_decrease_ = now;
    auto next = static_cast<uint32_t>(
      std::floor(static_cast<double>(limit_) * options_.backoff));
    limit_ = std::max(options_.min, std::min(next, limit_ - 1));
    return;
  }
  // Grow only while the limit is what holds calls back.
  if ((in_flight + 1) * 2 >= limit_ && limit_ < options_.max)
    ++limit_;
}

} // namespace kassa
