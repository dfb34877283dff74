#pragma once

#include <chrono>

#include "runtime/backoff.hpp"

namespace kassa {

/// A token bucket as plain code with an injected clock: `rate` tokens per
/// second refill up to `burst`; a call takes one. rate 0 = unlimited.
class token_bucket {
public:
  using time_point = std::chrono::steady_clock::time_point;

  token_bucket(double rate_per_s = 0, double burst = 1)
    : rate_(rate_per_s), burst_(burst < 1 ? 1 : burst), tokens_(burst_) {}

  /// Takes a token if one is there.
  bool try_take(time_point now);

  /// How long until a token is there (0 when one is).
  millis wait_time(time_point now);

private:
  void refill(time_point now);

  double rate_;
  double burst_;
  double tokens_;
  time_point last_{};
  bool started_ = false;
};

} // namespace kassa
