#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>

#include "runtime/backoff.hpp"

namespace kassa {

enum class breaker_state { closed, open, half_open };

std::string_view to_string(breaker_state s);

struct breaker_options {
  /// Open when at least `min_calls` ended within `window` and this share of
  /// them failed.
  double failure_ratio = 0.5;
  uint32_t min_calls = 10;
  millis window{10000};
  /// Stay open this long, then let probes through (half-open).
  millis open_for{5000};
  /// Probes in flight at once while half-open; this many successes close it.
  uint32_t probes = 3;
};

/// A circuit breaker as plain code with an injected clock (the provider
/// connection actor owns one per provider): closed → open on a failure
/// ratio → half-open probes after `open_for` → closed after enough
/// successful probes, or open again on a failed one.
class circuit_breaker {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit circuit_breaker(breaker_options options = {});

  /// Whether a call may start now. In half-open it reserves a probe slot;
  /// every allowed call must end with on_success or on_failure.
  bool allow(time_point now);
  void on_success(time_point now);
  void on_failure(time_point now);

  breaker_state state(time_point now) const;

  /// When an open breaker lets probes through.
  time_point reopens_at() const {
    return opened_at_ + options_.open_for;
  }

private:
  void trim(time_point now);
  void open(time_point now);

  breaker_options options_;
  breaker_state state_ = breaker_state::closed;
  std::deque<std::pair<time_point, bool>> outcomes_; ///< closed: (when, ok)
  uint32_t failures_ = 0;
  time_point opened_at_{};
  uint32_t probes_in_flight_ = 0;
  uint32_t probe_successes_ = 0;
};

} // namespace kassa
