#include "actors/billing_calendar.hpp"

#include <charconv>

namespace kassa {

using namespace std::chrono;

std::string_view to_string(billing_interval i) {
  switch (i) {
    case billing_interval::day:
      return "day";
    case billing_interval::week:
      return "week";
    case billing_interval::month:
      return "month";
    case billing_interval::year:
      return "year";
  }
  return "month";
}

std::optional<billing_interval> parse_billing_interval(std::string_view name) {
  for (auto i : {billing_interval::day, billing_interval::week,
                 billing_interval::month, billing_interval::year})
    if (to_string(i) == name)
      return i;
  return std::nullopt;
}

namespace {

/// `months` calendar months after `anchor`'s day, clamped to the month's
/// last day, at the anchor's time of day.
billing_time add_months(billing_time anchor, int64_t months) {
  auto day = floor<days>(anchor);
  auto time_of_day = anchor - day;
  year_month_day ymd{day};
  auto month_index = static_cast<int64_t>(static_cast<int>(ymd.year())) * 12
                     + static_cast<unsigned>(ymd.month()) - 1 + months;
  year_month target{year{static_cast<int>(month_index / 12)},
                    month{static_cast<unsigned>(month_index % 12) + 1}};
  auto last
    = year_month_day_last{target.year(), month_day_last{target.month()}}.day();
  auto d = ymd.day() <= last ? ymd.day() : last;
  return sys_days{target / d} + time_of_day;
}

} // namespace

billing_time period_start(billing_time anchor, billing_cycle cycle,
                          uint64_t n) {
  auto steps = static_cast<int64_t>(n) * (cycle.count == 0 ? 1 : cycle.count);
  switch (cycle.interval) {
    case billing_interval::day:
      return anchor + days{steps};
    case billing_interval::week:
      return anchor + weeks{steps};
    case billing_interval::month:
      return add_months(anchor, steps);
    case billing_interval::year:
      return add_months(anchor, steps * 12);
  }
  return anchor;
}

billing_period period_at(billing_time anchor, billing_cycle cycle,
                         billing_time at) {
  // An estimate from the average length, then a step either way: months
  // and years differ in length, the estimate is off by one at most.
  uint64_t n = 0;
  if (at > anchor) {
    auto approx
      = duration_cast<seconds>(period_start(anchor, cycle, 1) - anchor);
    n = static_cast<uint64_t>((at - anchor) / approx);
    while (n > 0 && period_start(anchor, cycle, n) > at)
      --n;
    while (period_start(anchor, cycle, n + 1) <= at)
      ++n;
  }
  return {n, period_start(anchor, cycle, n),
          period_start(anchor, cycle, n + 1)};
}

int64_t prorate(int64_t amount_minor, billing_time start, billing_time end,
                billing_time at) {
  if (end <= start || at >= end || amount_minor <= 0)
    return 0;
  if (at <= start)
    return amount_minor;
  // 128 bits: a trillion minor units times a year of seconds.
  auto left = static_cast<__int128>((end - at).count());
  auto length = static_cast<__int128>((end - start).count());
  return static_cast<int64_t>(amount_minor * left / length);
}

std::optional<dunning_schedule> parse_dunning_schedule(std::string_view text,
                                                       std::string& error) {
  dunning_schedule out;
  if (text.empty())
    return out;
  size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    auto item
      = text.substr(at, comma == std::string_view::npos ? std::string_view::npos
                                                        : comma - at);
    auto entry = "entry " + std::to_string(out.after.size() + 1) + " ("
                 + std::string{item} + ")";
    if (item.size() < 2) {
      error = entry + ": a number and a unit (s, m, h, d), e.g. 3d";
      return std::nullopt;
    }
    int64_t value = 0;
    auto [end, ec]
      = std::from_chars(item.data(), item.data() + item.size() - 1, value);
    if (ec != std::errc{} || end != item.data() + item.size() - 1
        || value <= 0) {
      error = entry + ": a positive whole number before the unit";
      return std::nullopt;
    }
    int64_t unit = 0;
    switch (item.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        error = entry + ": the unit is s, m, h or d";
        return std::nullopt;
    }
    if (value > 365 * 86400 / unit) {
      error = entry + ": at most 365 days";
      return std::nullopt;
    }
    seconds delay{value * unit};
    if (!out.after.empty() && delay <= out.after.back()) {
      error = entry + ": each delay after the one before";
      return std::nullopt;
    }
    out.after.push_back(delay);
    if (out.after.size() > 32) {
      error = "at most 32 entries";
      return std::nullopt;
    }
    if (comma == std::string_view::npos)
      break;
    at = comma + 1;
  }
  return out;
}

std::optional<billing_time> next_attempt(const dunning_schedule& schedule,
                                         billing_time first_failure,
                                         uint32_t failed) {
  if (failed == 0 || failed > schedule.after.size())
    return std::nullopt;
  return first_failure + schedule.after[failed - 1];
}

} // namespace kassa
