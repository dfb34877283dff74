#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace kassa {

class logger;
class metrics_registry;

/// What every exception boundary does with what it caught: one error log
/// line and `kassa_unhandled_errors_total{where}` + 1. `where` names the
/// boundary ("http_handler", "http_io", "db_job", "ws_io", "actor", ...).
/// Either pointer may be null (tests, fuzzers).
class fault_reporter {
public:
  fault_reporter(const logger* log = nullptr,
                 metrics_registry* metrics = nullptr);

  /// Reports the exception `error` (any type); returns its description.
  std::string report(std::string_view where, std::exception_ptr error,
                     std::string_view request_id = {}) const;

  /// Reports an error already described.
  void report(std::string_view where, std::string_view what,
              std::string_view request_id = {}) const;

private:
  const logger* log_;
  metrics_registry* metrics_;
};

/// Describes an exception of any type: `what()` where there is one.
std::string describe(std::exception_ptr error);

/// Runs an event loop (Asio's io_context or anything with `run()`) until it
/// returns normally: an exception that escapes a handler is reported and the
/// loop goes on, so one bad handler never takes the loop's thread down.
template <class Loop>
void run_guarded(Loop& loop, const fault_reporter& faults,
                 std::string_view where) {
  for (;;) {
    try {
      loop.run();
      return;
    } catch (...) {
      faults.report(where, std::current_exception());
    }
  }
}

} // namespace kassa
