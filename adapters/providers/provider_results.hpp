#pragma once

// What the HTTP payment adapters (Stripe, Adyen) build their answers from.

#include <cstdint>
#include <string>
#include <utility>

#include "actors/provider_protocol.hpp"
#include "adapters/providers/provider_errors.hpp"

namespace kassa {

/// The saga's view of a failure class.
inline provider_outcome outcome_of(failure_class c) {
  switch (c) {
    case failure_class::transient:
      return provider_outcome::transient;
    case failure_class::permanent:
      return provider_outcome::permanent;
    case failure_class::unknown_outcome:
      return provider_outcome::unknown;
  }
  return provider_outcome::unknown;
}

/// The answer to `call`.
inline provider_result make_result(const provider_call& call,
                                   provider_outcome o, std::string ref,
                                   std::string error,
                                   int64_t retry_after_ms = 0) {
  return {call.message_id, o, std::move(ref), std::move(error), retry_after_ms};
}

} // namespace kassa
