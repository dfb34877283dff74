#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/dispute_notice.hpp"

namespace kassa {

enum class webhook_verdict : uint8_t {
  valid,
  malformed_header,      ///< no t= or no v1=
  signature_mismatch,    ///< no v1 matches HMAC-SHA256(secret, t.payload)
  timestamp_out_of_range ///< older (or newer) than the tolerance
};

std::string_view to_string(webhook_verdict v);

/// Verifies a `Stripe-Signature` header ("t=<unix>,v1=<hex>[,v1=...]") over
/// the raw body the way Stripe documents: HMAC-SHA256 of "<t>.<payload>"
/// with the endpoint secret, compared in constant time against every v1,
/// and |now - t| within `tolerance` (Stripe's default: 5 minutes).
webhook_verdict verify_stripe_signature(
  std::string_view payload, std::string_view header, std::string_view secret,
  int64_t now_unix, std::chrono::seconds tolerance = std::chrono::minutes(5));

/// What kassa reads from a (verified) Stripe event.
struct stripe_event {
  std::string id;
  std::string type;
  std::string order_id; ///< data.object.metadata.order_id; empty if none
  /// `charge.dispute.*`: the dispute (data.object) in kassa's words; its
  /// order is found by `payment_ref` (the PaymentIntent) unless the
  /// dispute's own metadata names it.
  std::optional<dispute_notice> dispute;
  /// data.object.id (the PaymentIntent of `payment_intent.*` events).
  std::string object_id;
  /// data.object.last_payment_error.message of a failed payment.
  std::string failure_message;
  /// charge.refunded: the charge's PaymentIntent and all refunded of it.
  std::string payment_intent;
  int64_t amount_refunded = 0;
};

/// Reads an event body; nullopt when it is not JSON or lacks a string id
/// and type. Never throws.
std::optional<stripe_event> parse_stripe_event(std::string_view body);

} // namespace kassa
