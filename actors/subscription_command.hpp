#pragma once

// A shop's (or its customer's) command for one subscription, as it travels
// from a route to the subscription's actor.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "actors/plan.hpp"

namespace kassa {

struct subscription_command {
  enum class kind_t : uint8_t {
    pause,
    resume,
    cancel,
    payment_method,
    change_plan,
  };
  kind_t kind = kind_t::cancel;
  /// cancel, change_plan: at the end of the period paid for (else now; a
  /// cheaper plan always takes over at the period's end).
  bool at_period_end = false;
  /// cancel now: refund the unused part of the period paid for.
  bool prorated_refund = false;
  /// payment_method: the new stored payment method (a processor token).
  std::string token;
  /// change_plan: the plan (version) to move to, as the route read it.
  plan to_plan;

  friend bool operator==(const subscription_command&,
                         const subscription_command&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscription_command& x) {
  return f(caf::meta::type_name("kassa::subscription_command"), x.kind,
           x.at_period_end, x.prorated_refund, x.token, x.to_plan);
}

} // namespace kassa
