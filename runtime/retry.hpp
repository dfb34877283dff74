#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "runtime/backoff.hpp"

namespace kassa {

/// How a provider call is retried (provider_connection).
struct retry_policy {
  uint32_t max_attempts = 5;
  millis initial{100};
  millis max{10000};
  /// No retry may start later than this after the first attempt.
  millis deadline{60000};
};

/// The delay before attempt `attempt + 1` (attempt 1 is the first call), or
/// nullopt to give up: attempts exhausted, or the delay would pass the
/// deadline. Full jitter (`unit` in [0, 1) from the caller's random source);
/// a server's Retry-After is honoured as a lower bound.
std::optional<millis> next_retry_delay(const retry_policy& policy,
                                       uint32_t attempt, millis elapsed,
                                       double unit,
                                       std::optional<millis> retry_after = {});

/// Parses an HTTP Retry-After value: delta-seconds ("120") or an IMF-fixdate
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now`. A date in the past
/// is 0; anything else is nullopt.
std::optional<millis>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now);

} // namespace kassa
