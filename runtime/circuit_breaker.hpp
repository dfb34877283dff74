#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
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
  /// A call that took this long or longer is slow (0: none is).
  millis slow_call{0};
  /// Open also when this share of the window's calls were slow (0: never;
  /// the slow-call rate is reported either way).
  double slow_ratio = 0;
  /// Callers refused while open come back in waves from reopens_at():
  /// `probes`, then twice as many each `ramp_step` — the rate a recovering
  /// provider can take, not everyone at once.
  millis ramp_step{500};
};

/// One admitted call: handed back exactly once, with on_success,
/// on_failure or release. An outcome counts only in the period (epoch) the
/// call was admitted in, so a late answer from before the circuit opened
/// cannot close it, open it again or take a probe slot that is not its own.
struct breaker_permit {
  uint64_t epoch = 0;
  bool probe = false;
};

/// A circuit breaker as plain code with an injected clock (the provider
/// connection actor owns one per provider): closed → open on a failure (or
/// slow-call) ratio → half-open probes after `open_for` → closed after
/// enough successful probes, or open again on a failed one.
class circuit_breaker {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit circuit_breaker(breaker_options options = {});

  /// A permit if a call may start now (in half-open: a probe slot).
  std::optional<breaker_permit> acquire(time_point now);

  /// The call succeeded (a decline is a healthy provider saying no) after
  /// `took`.
  void on_success(const breaker_permit& p, time_point now, millis took = {});

  /// The call failed (after its retries, or a probe's first failure).
  void on_failure(const breaker_permit& p, time_point now);

  /// The call ended without an outcome (cancelled, abandoned): its slot
  /// comes back and nothing is counted.
  void release(const breaker_permit& p);

  /// Whether `p` was admitted in the current period.
  bool current(const breaker_permit& p) const {
    return p.epoch == epoch_;
  }

  breaker_state state(time_point now) const;

  /// When an open breaker lets probes through.
  time_point reopens_at() const {
    return opened_at_ + options_.open_for;
  }

  /// When the next caller refused in this open period should try again
  /// (oldest first, in waves; see breaker_options::ramp_step).
  time_point next_resume_at();

  /// Probe slots taken now (half-open).
  uint32_t probes_in_flight() const {
    return state_ == breaker_state::half_open ? probes_in_flight_ : 0;
  }

  /// Shares of the window's calls that failed and that were slow.
  double failure_rate(time_point now);
  double slow_rate(time_point now);

private:
  struct outcome {
    time_point at;
    bool ok;
    bool slow;
  };

  void trim(time_point now);
  void open(time_point now);
  void enter(breaker_state s);

  breaker_options options_;
  breaker_state state_ = breaker_state::closed;
  uint64_t epoch_ = 1;
  std::deque<outcome> outcomes_; ///< closed: the window
  uint32_t failures_ = 0;
  uint32_t slow_ = 0;
  time_point opened_at_{};
  uint32_t probes_in_flight_ = 0;
  uint32_t probe_successes_ = 0;
  uint64_t refused_ = 0; ///< callers told to come back, this open period
};

} // namespace kassa
