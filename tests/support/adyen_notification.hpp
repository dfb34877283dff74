#pragma once

// Adyen's standard webhook as a test sends it to a node: one
// NotificationRequestItem, signed the way Adyen signs (HMAC-SHA256 under
// the hex key, base64, in additionalData.hmacSignature).

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "support/http_client.hpp"

namespace kassa::test {

/// The key the tests give the node as adyen.hmac_key.
inline const std::string adyen_key_hex
  = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

struct adyen_item {
  std::string event_code;
  std::string order_id; ///< merchantReference
  std::string psp = "9915555555555555";
  std::string original = "8815555555555555";
  std::string success = "true";
  std::string reason = "Fraud";
};

/// A notification of `item`, signed with `key_hex`.
inline std::string adyen_notification(const adyen_item& x,
                                      const std::string& key_hex) {
  nlohmann::json item{{"amount", {{"value", 1000}, {"currency", "HUF"}}},
                      {"pspReference", x.psp},
                      {"originalReference", x.original},
                      {"merchantAccountCode", "KassaShop"},
                      {"merchantReference", x.order_id},
                      {"eventCode", x.event_code},
                      {"eventDate", "2026-12-06T10:00:00+01:00"},
                      {"reason", x.reason},
                      {"success", x.success}};
  auto signing = x.psp + ":" + x.original + ":KassaShop:" + x.order_id
                 + ":1000:HUF:" + x.event_code + ":" + x.success;
  item["additionalData"]
    = {{"hmacSignature",
        kassa::hmac_sha256_base64(*kassa::bytes_from_hex(key_hex), signing)}};
  return nlohmann::json{
    {"live", "false"},
    {"notificationItems",
     nlohmann::json::array({{{"NotificationRequestItem", item}}})}}
    .dump();
}

/// The same, for the dispute tests' fixed references.
inline std::string adyen_notification(const std::string& event_code,
                                      const std::string& order_id,
                                      const std::string& key_hex) {
  return adyen_notification(adyen_item{event_code, order_id}, key_hex);
}

/// POSTs `body` to the node's Adyen webhook.
inline http_reply post_adyen_webhook(uint16_t port, const std::string& body) {
  return http_request(port, "POST", "/v1/webhooks/adyen",
                      {{"Content-Type", "application/json"}}, body);
}

} // namespace kassa::test
