#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "runtime/backoff.hpp"

namespace kassa {

class logger;

/// Owns SIGTERM/SIGINT and bounds the node's exit: a watchdog thread waits
/// for the signals (blocked in every other thread), starts the drain through
/// `on_signal`, and from then on — or from `arm()` — ends the process with
/// `_exit` if the orderly shutdown has not finished by the deadline: a node
/// that hangs instead of dying is one no process supervisor restarts. A
/// second signal ends the process at once.
class exit_guard {
public:
  /// Blocks SIGTERM and SIGINT in the calling thread, so in every thread it
  /// starts afterwards: call it first, before any thread exists.
  static void block_signals();

  /// `bound`: from the first signal to the forced exit (the drain grace plus
  /// the exit timeout).
  exit_guard(const logger& log, std::function<void()> on_signal, millis bound);
  ~exit_guard();

  exit_guard(const exit_guard&) = delete;
  exit_guard& operator=(const exit_guard&) = delete;

  /// The process ends at most `bound` from now (an earlier deadline stays):
  /// if it is still there then, it logs and ends with `_exit(1)` — a forced
  /// exit is never a clean stop.
  void arm(millis bound);

  /// Whether a termination signal arrived.
  bool signalled() const {
    return signalled_.load();
  }

private:
  void run();

  const logger& log_;
  std::function<void()> on_signal_;
  millis signal_bound_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool stop_ = false;
  std::atomic<bool> signalled_{false};
  std::thread thread_;
};

} // namespace kassa
