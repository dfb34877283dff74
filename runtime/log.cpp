#include "runtime/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

#include "runtime/json_text.hpp"

namespace kassa {

namespace {

const char* level_name(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto micros
    = duration_cast<microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n
    = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  out.append(buf, static_cast<size_t>(n));
}

} // namespace

std::string utc_timestamp() {
  std::string out;
  append_timestamp(out);
  return out;
}

bool parse_log_level(std::string_view text, log_level& out) {
  for (auto level :
       {log_level::debug, log_level::info, log_level::warn, log_level::error}) {
    if (text == level_name(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

logger::logger(log_level threshold, int fd) : threshold_(threshold), fd_(fd) {
  // nop
}

void logger::log(log_level level, std::string_view component,
                 std::string_view message, log_fields fields) const {
  if (!enabled(level))
    return;
  std::string line;
  line.reserve(128 + message.size());
  line += "{\"time\":\"";
  append_timestamp(line);
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"component\":\"";
  append_json_escaped(line, component);
  line += "\",\"message\":\"";
  append_json_escaped(line, message);
  line += '"';
  for (auto& [key, value] : fields) {
    line += ",\"";
    append_json_escaped(line, key);
    line += "\":\"";
    append_json_escaped(line, value);
    line += '"';
  }
  line += "}\n";
  // Best effort: a log line that cannot be written is dropped, never fatal.
  auto rest = std::string_view{line};
  while (!rest.empty()) {
    auto n = ::write(fd_, rest.data(), rest.size());
    if (n <= 0)
      break;
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

} // namespace kassa
