#pragma once

// What a payment processor tells kassa, after the fact, about a payment
// it had answered "pending" (Adyen's `Pending`/`Received`) or left to the
// shopper (3-D Secure): authorised or refused. Adyen's AUTHORISATION
// webhook and Stripe's payment_intent.payment_failed are read into one of
// these at the edge; it travels like a command to the order's saga, which
// settles its waiting charge with it (the journal row names the message
// id, so a message delivered again changes nothing).

#include <string>

#include <caf/meta/type_name.hpp>

namespace kassa {

struct payment_notice {
  /// The processor's id of this message: a repeat is recognised.
  std::string message_id;
  std::string processor;   ///< "adyen", "stripe"
  std::string payment_ref; ///< the processor's id of the payment
  bool authorised = false; ///< false: refused
  std::string reason;      ///< why it was refused, in the processor's words

  friend bool operator==(const payment_notice&, const payment_notice&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_notice& x) {
  return f(caf::meta::type_name("kassa::payment_notice"), x.message_id,
           x.processor, x.payment_ref, x.authorised, x.reason);
}

} // namespace kassa
