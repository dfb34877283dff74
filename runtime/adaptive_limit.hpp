#pragma once

#include <chrono>
#include <cstdint>

#include "runtime/backoff.hpp"

namespace kassa {

struct adaptive_limit_options {
  uint32_t min = 4;  ///< never fewer calls in flight than this
  uint32_t max = 64; ///< nor more than this (the configured cap)
  /// On a drop the limit becomes limit * backoff (at most once a round trip).
  double backoff = 0.9;
  /// A call that took this long counts as a drop (0: only timeouts and
  /// overload answers do).
  millis slow{0};
};

/// How many calls a provider connection lets into flight: additive increase
/// while the provider keeps up, multiplicative decrease when it does not
/// (a timeout, an overload answer, a slow call) — the AIMD limit of
/// Netflix's concurrency-limits, as plain code with an injected clock. A
/// slow provider gets fewer concurrent calls instead of a storm of
/// timeouts; a healthy one keeps the configured cap.
class adaptive_limit {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit adaptive_limit(adaptive_limit_options options = {});

  uint32_t limit() const {
    return limit_;
  }

  /// One call ended after `took`; `dropped`: it timed out or the provider
  /// said it is overloaded; `in_flight`: calls still out.
  void on_sample(time_point now, millis took, bool dropped, uint32_t in_flight);

private:
  adaptive_limit_options options_;
  uint32_t limit_;
  time_point last_decrease_{};
};

} // namespace kassa
