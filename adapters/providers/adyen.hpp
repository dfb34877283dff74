#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/provider_protocol.hpp"

namespace kassa {

class http_client;
struct http_call;
struct http_outcome;

/// What every Adyen Checkout request needs besides the call.
struct adyen_settings {
  std::string api_key;          ///< sent as X-API-Key
  std::string merchant_account; ///< merchantAccount of every request
  /// returnUrl of /payments (required by the API): where a shopper
  /// redirected for 3-D Secure comes back to.
  std::string return_url;
};

/// Adyen's Checkout API v71 (adyen-checkout-v71 contract in
/// ../shared/contracts). Verbs (provider_call.op), each with the saga
/// step's key as `Idempotency-Key`:
/// - `charge`, `authorize`: POST /payments, `reference` = the order id (the
///   `merchantReference` of Adyen's webhooks), the order's token as a
///   stored card (`storedPaymentMethodId`, `shopperInteraction`
///   ContAuth), `authorize` with `additionalData.manualCapture`.
///   `Authorised` → ok (ref = pspReference); `Refused`, `Error`,
///   `Cancelled` → permanent; a shopper action (3-D Secure) →
///   action_required; `Pending`/`Received` → pending (ref = pspReference:
///   the AUTHORISATION webhook settles it). After the shopper's 3-D Secure
///   (`detail` = "3ds_confirmed:" + what the return carried) the details go
///   to POST /payments/details (key `<step key>:details`), answered like a
///   payment; a confirmation without details is refused (Adyen has no read
///   of a payment to ask instead).
/// - `capture`: POST /payments/{psp}/captures (amount).
/// - `void`: POST /payments/{psp}/cancels.
/// - `reverse`: POST /payments/{psp}/reversals — a payment left pending or
///   waiting for the shopper that the order gave up (cancelled if only
///   authorised, refunded if captured).
/// - `refund`: POST /payments/{psp}/refunds (amount) — a refund the shop
///   asked for, or the compensation of a sale. Adyen answers the
///   modifications `received` (the outcome follows by webhook): ok, ref =
///   the modification's pspReference.
/// Failures: classify_adyen / classify_transport.
caf::actor spawn_adyen_adapter(caf::local_actor* parent,
                               std::shared_ptr<http_client> client,
                               adyen_settings settings);

/// The request that performs `call` (plain; the contract tests send these
/// to a validating mock of Adyen's spec). Unknown verbs give an empty
/// target.
http_call adyen_request(const provider_call& call, const adyen_settings& s);

/// The result of an Adyen answer to `call` (plain, unit-tested).
provider_result adyen_result(const provider_call& call,
                             const http_outcome& out);

} // namespace kassa
