#pragma once

// What a payment processor tells kassa, after the fact, about a payment or
// a modification of it: the outcome of a payment it had answered
// "pending" (Adyen's `Pending`/`Received`) or left to the shopper (3-D
// Secure), or the failure of a capture or refund it had only acknowledged
// (Adyen answers modifications `received` and reports later). Adyen's
// AUTHORISATION, CAPTURE(_FAILED) and REFUND(_FAILED) webhooks and
// Stripe's payment_intent.payment_failed are read into one of these at the
// edge; it travels like a command to the order's saga, which journals what
// it changes with the message id (a message delivered again changes
// nothing).

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace kassa {

struct payment_notice {
  /// The processor's id of this message: a repeat is recognised.
  std::string message_id;
  std::string processor; ///< "adyen", "stripe"
  /// `authorisation` (of the payment), `capture` or `refund` (a
  /// modification kassa asked for, which failed), `refunded` (one refund
  /// of the payment, made by whoever: kassa's own is recognised by its
  /// ref) or `refunded_total` (all refunded of the payment so far, as
  /// Stripe's charge.refunded says it).
  std::string kind = "authorisation";
  /// The processor's id of the payment (authorisation), of the
  /// modification (capture, refund, refunded) or of the charge
  /// (refunded_total).
  std::string ref;
  bool success = false;     ///< false: refused, or the modification failed
  std::string reason;       ///< why, in the processor's words
  int64_t amount_minor = 0; ///< refunded, refunded_total

  friend bool operator==(const payment_notice&, const payment_notice&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_notice& x) {
  return f(caf::meta::type_name("kassa::payment_notice"), x.message_id,
           x.processor, x.kind, x.ref, x.success, x.reason, x.amount_minor);
}

} // namespace kassa
