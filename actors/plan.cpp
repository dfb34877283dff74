#include "actors/plan.hpp"

#include "actors/billing_calendar.hpp"

namespace kassa {

plan_problem check_plan(const plan& p) {
  auto interval = parse_billing_interval(p.interval);
  if (!interval)
    return {"interval", "one of day, week, month, year"};
  // At most ten years per period, in the interval's own unit.
  uint32_t most = 0;
  switch (*interval) {
    case billing_interval::day:
      most = 3660;
      break;
    case billing_interval::week:
      most = 522;
      break;
    case billing_interval::month:
      most = 120;
      break;
    case billing_interval::year:
      most = 10;
      break;
  }
  if (p.interval_count < 1 || p.interval_count > most)
    return {"interval_count", "between 1 and " + std::to_string(most)
                                + " (at most ten years per period)"};
  if (p.trial_days > 730)
    return {"trial_days", "between 0 and 730"};
  if (p.amount_minor == 0 && p.setup_fee_minor == 0 && p.trial_days == 0)
    return {"amount_minor", "a plan that charges nothing needs no billing: "
                            "give an amount, a setup fee or a trial"};
  return {};
}

} // namespace kassa
