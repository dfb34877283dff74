#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kassa {

enum class log_level { debug = 0, info, warn, error };

/// Parses "debug", "info", "warn" or "error".
bool parse_log_level(std::string_view text, log_level& out);

/// Extra fields of one log line, e.g. {{"saga_id", id}, {"msg_id", mid}}.
using log_fields
  = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Now as RFC 3339 UTC with microseconds, as log lines stamp it.
std::string utc_timestamp();

/// Writes JSON lines to a file descriptor (stderr by default): one write(2)
/// per line so lines from different threads never interleave.
class logger {
public:
  explicit logger(log_level threshold = log_level::info, int fd = 2);

  void log(log_level level, std::string_view component,
           std::string_view message, log_fields fields = {}) const;

  void debug(std::string_view component, std::string_view message,
             log_fields fields = {}) const {
    log(log_level::debug, component, message, fields);
  }
  void info(std::string_view component, std::string_view message,
            log_fields fields = {}) const {
    log(log_level::info, component, message, fields);
  }
  void warn(std::string_view component, std::string_view message,
            log_fields fields = {}) const {
    log(log_level::warn, component, message, fields);
  }
  void error(std::string_view component, std::string_view message,
             log_fields fields = {}) const {
    log(log_level::error, component, message, fields);
  }

  bool enabled(log_level level) const {
    return level >= threshold_;
  }

private:
  log_level threshold_;
  int fd_;
};

} // namespace kassa
