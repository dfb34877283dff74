#pragma once

// The node's clock for what the business counts in time: billing periods,
// dunning, durable jobs' due times. Everything that decides *when* reads it
// through this interface, so a test (or a demo) can run a year of renewals
// in seconds: with `clock.test_mode` on, the node's clock is the machine's
// plus an offset that only grows (POST /v1/test_clock/advance). Leases,
// timeouts of calls and the actors' own short timers stay on the machine's
// steady clock: they measure how long something took, not what day it is.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace kassa {

class node_clock {
public:
  using time_point = std::chrono::system_clock::time_point;

  virtual ~node_clock() = default;

  /// What time it is for the node.
  virtual time_point now() const = 0;

  /// Whether `advance` can move it (test mode).
  virtual bool movable() const {
    return false;
  }

  /// Moves the clock forward by `by` (> 0); false when it cannot be moved.
  virtual bool advance(std::chrono::milliseconds by) {
    (void)by;
    return false;
  }

  /// How far it runs ahead of the machine's clock.
  virtual std::chrono::milliseconds offset() const {
    return std::chrono::milliseconds{0};
  }

  /// Milliseconds since the Unix epoch of `now()` (how the stores pass it).
  int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             now().time_since_epoch())
      .count();
  }
};

/// `t` as RFC 3339 in UTC to the second: "2026-01-31T09:30:00Z".
std::string rfc3339(std::chrono::sys_seconds t);

/// The machine's clock.
std::shared_ptr<node_clock> make_system_clock();

/// The machine's clock plus an offset (from `offset_ms` on) that `advance`
/// grows.
std::shared_ptr<node_clock> make_test_clock(int64_t offset_ms = 0);

} // namespace kassa
