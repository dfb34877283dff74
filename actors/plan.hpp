#pragma once

// A subscription plan (issue 22): what a subscriber pays, how often, after
// how long a trial. Plans are versioned: a change of terms makes a new
// version, and a subscription keeps the version it was made with until it
// is moved.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace kassa {

struct plan {
  std::string id;
  uint32_t version = 0; ///< 0 until stored
  std::string name;
  int64_t amount_minor = 0;
  std::string currency;
  std::string interval = "month"; ///< day, week, month, year
  uint32_t interval_count = 1;
  uint32_t trial_days = 0;
  int64_t setup_fee_minor = 0;

  friend bool operator==(const plan&, const plan&) = default;

  /// The same terms (the version and when it was made aside).
  bool same_terms(const plan& other) const {
    return name == other.name && amount_minor == other.amount_minor
           && currency == other.currency && interval == other.interval
           && interval_count == other.interval_count
           && trial_days == other.trial_days
           && setup_fee_minor == other.setup_fee_minor;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan& x) {
  return f(caf::meta::type_name("kassa::plan"), x.id, x.version, x.name,
           x.amount_minor, x.currency, x.interval, x.interval_count,
           x.trial_days, x.setup_fee_minor);
}

/// Why `p`'s terms cannot be a plan: the field and what it must be (an
/// empty field: they can). The interval is one of day, week, month,
/// year; a period at most 10 years long; a trial at most 2 years.
struct plan_problem {
  std::string field;
  std::string message;
};
plan_problem check_plan(const plan& p);

} // namespace kassa
