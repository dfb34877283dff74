#pragma once

// Billing periods as plain arithmetic (issue 22): where a subscription's
// periods begin and end, what an unused part of one is worth, and when a
// failed charge is tried again. All in UTC seconds; no clock is read here
// (the caller passes "now"), so it is tested without one.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kassa {

using billing_time = std::chrono::sys_seconds;

enum class billing_interval : uint8_t { day, week, month, year };

std::string_view to_string(billing_interval i);
std::optional<billing_interval> parse_billing_interval(std::string_view name);

/// A plan's rhythm: every `count` intervals (count ≥ 1).
struct billing_cycle {
  billing_interval interval = billing_interval::month;
  uint32_t count = 1;
};

/// Where period `n` begins, period 0 beginning at `anchor`: anchor + n ×
/// count intervals, the time of day kept. Months and years are counted on
/// the calendar from the anchor's own day, clamped to the last day of a
/// shorter month — 31 January + 1 month is 28 (or 29) February, + 2 months
/// 31 March; 29 February + 1 year is 28 February.
billing_time period_start(billing_time anchor, billing_cycle cycle, uint64_t n);

/// One period: [start, end).
struct billing_period {
  uint64_t index = 0;
  billing_time start;
  billing_time end;
};

/// The period that holds `at` (at ≥ anchor; before it: period 0).
billing_period period_at(billing_time anchor, billing_cycle cycle,
                         billing_time at);

/// What the part of [start, end) from `at` on is worth of `amount_minor`
/// (a credit for a period left early, a charge for one joined late):
/// rounded down to the minor unit; 0 outside the period.
int64_t prorate(int64_t amount_minor, billing_time start, billing_time end,
                billing_time at);

/// When a failed charge is tried again: delays after the first failure,
/// e.g. "1d,3d,5d,7d" (units s, m, h, d; at most 32 entries, each at most
/// 365 days, in increasing order). An empty text is no retries.
struct dunning_schedule {
  std::vector<std::chrono::seconds> after;
};

/// The schedule `text` describes, or why it does not (`error`).
std::optional<dunning_schedule> parse_dunning_schedule(std::string_view text,
                                                       std::string& error);

/// When attempt `failed + 1` runs, `failed` attempts having failed since
/// `first_failure` (nullopt: the schedule is used up).
std::optional<billing_time> next_attempt(const dunning_schedule& schedule,
                                         billing_time first_failure,
                                         uint32_t failed);

} // namespace kassa
