#pragma once

// Adyen's standard webhooks (notifications): a JSON body of
// `notificationItems`, each a `NotificationRequestItem` signed on its own —
// HMAC-SHA256 under the merchant's hex key of "pspReference:
// originalReference:merchantAccountCode:merchantReference:value:currency:
// eventCode:success" (a `\` or `:` in a value escaped with `\`), base64, in
// `additionalData.hmacSignature`. kassa acts on the dispute events
// (NOTIFICATION_OF_CHARGEBACK, CHARGEBACK, CHARGEBACK_REVERSED, …), on
// AUTHORISATION (the outcome of a payment Adyen answered `Pending` or left
// to the shopper) and on failed captures and refunds; the order is the
// payment's `merchantReference`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/dispute_notice.hpp"
#include "actors/payment_notice.hpp"

namespace kassa {

/// One NotificationRequestItem, as kassa reads it.
struct adyen_notification {
  std::string psp_reference;
  std::string original_reference;
  std::string merchant_account;
  std::string merchant_reference;
  std::string value; ///< amount.value as written (minor units)
  std::string currency;
  std::string event_code;
  std::string success; ///< "true" / "false"
  std::string event_date;
  std::string reason;
  std::string hmac_signature;   ///< additionalData.hmacSignature
  std::string defense_deadline; ///< additionalData.defenseDeadlineDate
};

/// The items of a notification body; nullopt when it is not JSON or has no
/// `notificationItems` array of objects. Never throws.
std::optional<std::vector<adyen_notification>>
parse_adyen_notifications(std::string_view body);

/// The string Adyen signs for `item`.
std::string adyen_signing_string(const adyen_notification& item);

/// Whether `item`'s signature is HMAC-SHA256 of its signing string under
/// `key` (the key's bytes, decoded from hex), compared in constant time.
bool verify_adyen_hmac(const adyen_notification& item, std::string_view key);

/// What a dispute event says, in kassa's words (empty: not a dispute
/// event, or an unsuccessful one). CHARGEBACK_REVERSED gives back the funds
/// and wins the dispute: two notices.
std::vector<dispute_notice>
adyen_dispute_notices(const adyen_notification& item);

/// What an item says about the payment of the order named by its
/// merchantReference: AUTHORISATION's outcome; a refund that went through
/// (REFUND: `refunded`, kassa's own or one made elsewhere); the failure of
/// a capture or refund (CAPTURE / REFUND unsuccessful, CAPTURE_FAILED,
/// REFUND_FAILED, REFUNDED_REVERSED) — nullopt for anything else (a
/// successful capture changes nothing: kassa took it as done), or without
/// references.
std::optional<payment_notice>
adyen_payment_notice(const adyen_notification& item);

} // namespace kassa
