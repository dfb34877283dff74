#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace kassa {

/// Whether the node can reach its database right now: one per node, shared
/// by everything that talks to PostgreSQL. An outage is a state of the node,
/// not an error of each caller: the first connection that finds the server
/// gone reports it lost, the database monitor alone probes (with backoff)
/// and reports it back, and meanwhile callers fail fast instead of each
/// trying to connect. Thread-safe; reads are one atomic load.
class database_health {
public:
  using clock = std::chrono::steady_clock;

  /// False from a loss until the monitor's probe connects again.
  bool up() const noexcept {
    return up_.load(std::memory_order_acquire);
  }

  /// Grows by one each time the database comes back. A connection opened in
  /// an older epoch is to a server that went away since (it may not know it
  /// yet): its owner reopens it instead of finding out with a failed query.
  uint64_t epoch() const noexcept {
    return epoch_.load(std::memory_order_acquire);
  }

  /// The server cannot be reached (a connect failed, a connection broke).
  /// True when this call took the node from up to down.
  bool report_lost(std::string reason);

  /// The monitor connected again; true when this call took the node from
  /// down to up. The new epoch starts.
  bool report_back();

  /// Why the database was last lost ("" if never).
  std::string last_reason() const;

  /// When the current outage started (meaningless while up).
  clock::time_point down_since() const;

private:
  std::atomic<bool> up_{true};
  std::atomic<uint64_t> epoch_{0};
  mutable std::mutex mutex_;
  std::string reason_;
  clock::time_point down_since_{};
};

} // namespace kassa
