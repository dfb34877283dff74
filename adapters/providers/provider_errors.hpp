#pragma once

#include <cstdint>
#include <string_view>

namespace kassa {

/// What a failed provider call means for the caller.
enum class failure_class : uint8_t {
  /// Nothing happened that matters: retry (with backoff).
  transient,
  /// Refused for good (a declined card, an invalid request): compensate.
  permanent,
  /// It may have happened: retry only under the same idempotency key, or
  /// look the effect up first (Billingo has no idempotency key).
  unknown_outcome,
};

std::string_view to_string(failure_class c);

/// Stripe's statuses and error types (stripe-payments spec, "Errors"):
/// 402 card_error is a decline; 409 is a concurrent use of an idempotency
/// key or a lock timeout; 429 rate limiting; 5xx may have been processed.
failure_class classify_stripe(int status, std::string_view error_type);

/// Billingo v3: 4xx are permanent (the API's message is kept by the
/// adapter), 429 is rate limiting; 5xx on a request that creates something
/// (not idempotent) may have created it.
failure_class classify_billingo(int status, bool idempotent_request);

/// Adyen Checkout (ServiceError): 429 rate limiting and 502/503/504 (not
/// processed) are transient; 500 may have been processed (retry under the
/// same Idempotency-Key); other 4xx (validation, auth, a refused
/// modification) are permanent.
failure_class classify_adyen(int status);

/// A transport failure: before the request was written (connect refused,
/// DNS, TLS handshake) nothing happened; after it, the outcome is unknown.
failure_class classify_transport(bool request_was_sent);

} // namespace kassa
