#include "adapters/providers/provider_errors.hpp"

namespace kassa {

std::string_view to_string(failure_class c) {
  switch (c) {
    case failure_class::transient:
      return "transient";
    case failure_class::permanent:
      return "permanent";
    case failure_class::unknown_outcome:
      return "unknown_outcome";
  }
  return "transient";
}

failure_class classify_stripe(int status, std::string_view error_type) {
  if (status == 409 || status == 424 || status == 429 || status == 502
      || status == 503 || status == 504)
    return failure_class::transient;
  if (status >= 500 || error_type == "api_error")
    return failure_class::unknown_outcome;
  if (error_type == "idempotency_error")
    return failure_class::permanent; // the same key with other parameters
  if (status >= 400)
    return failure_class::permanent;
  return failure_class::transient;
}

failure_class classify_billingo(int status, bool idempotent_request) {
  if (status == 408 || status == 429)
    return failure_class::transient;
  if (status >= 500)
    return idempotent_request ? failure_class::transient
                              : failure_class::unknown_outcome;
  if (status >= 400)
    return failure_class::permanent;
  return failure_class::transient;
}

failure_class classify_adyen(int status) {
  if (status == 408 || status == 429 || status == 502 || status == 503
      || status == 504)
    return failure_class::transient;
  if (status >= 500)
    return failure_class::unknown_outcome;
  if (status >= 400)
    return failure_class::permanent;
  return failure_class::transient;
}

failure_class classify_transport(bool request_was_sent) {
  return request_was_sent ? failure_class::unknown_outcome
                          : failure_class::transient;
}

} // namespace kassa
