#pragma once

// What a payment processor tells kassa about a dispute (a chargeback or an
// inquiry) of an order's payment, in kassa's words: the Stripe and Adyen
// webhooks and the sandbox's chargeback tokens are read into one of these
// at the edge, then it travels like a command to the order's saga, which
// journals it (the journal entry names the processor's message id, so a
// message delivered again changes nothing).

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

namespace kassa {

struct dispute_notice {
  /// The processor's id of this message (event id, notification's PSP
  /// reference + code): a repeat of it is recognised and changes nothing.
  std::string message_id;
  std::string processor; ///< "stripe", "adyen", "sandbox"
  std::string dispute_id;
  /// The order, when the processor's message names it (sandbox, Adyen's
  /// merchantReference); else found by `payment_ref`.
  std::string order_id;
  std::string payment_ref; ///< the processor's id of the disputed payment
  /// `opened`, `updated`, `funds_withdrawn`, `funds_reinstated`, `won`,
  /// `lost`.
  std::string change;
  /// With `updated`: `needs_response` or `under_review` (else empty).
  std::string status;
  int64_t amount_minor = 0;
  std::string currency;
  std::string reason;
  std::string due_by; ///< RFC 3339: the evidence's deadline, if any

  friend bool operator==(const dispute_notice&, const dispute_notice&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dispute_notice& x) {
  return f(caf::meta::type_name("kassa::dispute_notice"), x.message_id,
           x.processor, x.dispute_id, x.order_id, x.payment_ref, x.change,
           x.status, x.amount_minor, x.currency, x.reason, x.due_by);
}

/// Why `x` cannot be journaled (empty: it can): an unknown change or status,
/// no message or dispute id, a negative amount.
std::string check_dispute_notice(const dispute_notice& x);

} // namespace kassa
