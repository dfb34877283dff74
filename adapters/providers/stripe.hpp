#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/provider_protocol.hpp"

namespace kassa {

class http_client;
struct http_call;
struct http_outcome;

/// Stripe's PaymentIntents and Refunds API (stripe-payments contract in
/// ../shared/contracts). Verbs (provider_call.op):
/// - `charge`: POST /v1/payment_intents with `confirm=true`, the order's
///   token as `payment_method`, `metadata[order_id]` and `Idempotency-Key`
///   = the saga step's key. `succeeded` → ok (ref = the intent id);
///   `requires_action` → action_required (3-D Secure); a decline →
///   permanent. After the customer's 3-D Secure (`detail` =
///   "3ds_confirmed") the same create is replayed (Stripe answers it from
///   its idempotency cache with the intent id) and the intent is read.
/// - `capture`, `void`: POST /v1/payment_intents/{ref}/capture | /cancel;
///   `reverse` (an intent left waiting for 3-D Secure that the order gave
///   up) cancels it too.
///   A capture that is not final (`detail` = "partial") is refused:
///   multicapture's `final_capture` is newer than the API version followed.
/// - `refund`: POST /v1/refunds with `payment_intent` = ref.
/// Failures are classified with classify_stripe / classify_transport.
caf::actor spawn_stripe_adapter(caf::local_actor* parent,
                                std::shared_ptr<http_client> client,
                                std::string secret_key);

/// Performs `call` and answers `call.reply_to` from the client's thread.
void stripe_perform(const std::shared_ptr<http_client>& client,
                    const std::string& secret_key, provider_call call);

/// The request that performs `call` (plain; the contract tests send these
/// to a validating mock of Stripe's spec). Unknown verbs give an empty
/// target.
http_call stripe_request(const provider_call& call,
                         const std::string& secret_key);

/// GET /v1/payment_intents/{id}.
http_call stripe_retrieve(const std::string& intent_id,
                          const std::string& secret_key);

/// The result of a PaymentIntent or Refund answer (plain, unit-tested).
provider_result stripe_result(const provider_call& call,
                              const http_outcome& out);

/// `application/x-www-form-urlencoded` encoding of one value.
std::string form_encode(std::string_view value);

} // namespace kassa
