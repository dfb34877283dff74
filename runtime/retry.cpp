#include "runtime/retry.hpp"

#include <charconv>
#include <ctime>
#include <string>

namespace kassa {

std::optional<millis> next_retry_delay(const retry_policy& policy,
                                       uint32_t attempt, millis elapsed,
                                       double unit,
                                       std::optional<millis> retry_after) {
  if (attempt >= policy.max_attempts)
    return std::nullopt;
  auto delay = full_jitter_delay(policy.initial, policy.max, attempt - 1, unit);
  if (retry_after && *retry_after > delay)
    delay = *retry_after;
  if (elapsed + delay > policy.deadline)
    return std::nullopt;
  return delay;
}

std::optional<millis>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ')
    value.remove_suffix(1);
  if (value.empty())
    return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    int64_t seconds = 0;
    auto [p, ec]
      = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || p != value.data() + value.size() || seconds < 0)
      return std::nullopt;
    return millis{seconds * 1000};
  }
  std::tm tm{};
  std::string text{value};
  auto end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now)
    return millis{0};
  return std::chrono::duration_cast<millis>(at - now);
}

} // namespace kassa
