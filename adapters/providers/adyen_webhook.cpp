#include "adapters/providers/adyen_webhook.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "runtime/json_parse.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto i = object.find(key);
  if (i == object.end())
    return {};
  if (i->is_string())
    return i->get<std::string>();
  if (i->is_number_integer())
    return std::to_string(i->get<int64_t>());
  if (i->is_boolean())
    return i->get<bool>() ? "true" : "false";
  return {};
}

/// `\` and `:` escaped with `\`, so no value can shift the fields.
std::string escaped(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ':')
      out += '\\';
    out += c;
  }
  return out;
}

} // namespace

std::optional<std::vector<adyen_notification>>
parse_adyen_notifications(std::string_view body) {
  json doc;
  if (parse_json(body, doc) || !doc.is_object())
    return std::nullopt;
  auto items = doc.find("notificationItems");
  if (items == doc.end() || !items->is_array())
    return std::nullopt;
  std::vector<adyen_notification> out;
  for (auto& wrapper : *items) {
    if (!wrapper.is_object())
      return std::nullopt;
    auto inner = wrapper.find("NotificationRequestItem");
    if (inner == wrapper.end() || !inner->is_object())
      return std::nullopt;
    auto& x = *inner;
    adyen_notification n;
    n.psp_reference = text_of(x, "pspReference");
    n.original_reference = text_of(x, "originalReference");
    n.merchant_account = text_of(x, "merchantAccountCode");
    n.merchant_reference = text_of(x, "merchantReference");
    if (auto amount = x.find("amount");
        amount != x.end() && amount->is_object()) {
      n.value = text_of(*amount, "value");
      n.currency = text_of(*amount, "currency");
    }
    n.event_code = text_of(x, "eventCode");
    n.success = text_of(x, "success");
    n.event_date = text_of(x, "eventDate");
    n.reason = text_of(x, "reason");
    if (auto extra = x.find("additionalData");
        extra != x.end() && extra->is_object()) {
      n.hmac_signature = text_of(*extra, "hmacSignature");
      n.defense_deadline = text_of(*extra, "defenseDeadlineDate");
    }
    out.push_back(std::move(n));
  }
  return out;
}

std::string adyen_signing_string(const adyen_notification& n) {
  return escaped(n.psp_reference) + ":" + escaped(n.original_reference) + ":"
         + escaped(n.merchant_account) + ":" + escaped(n.merchant_reference)
         + ":" + escaped(n.value) + ":" + escaped(n.currency) + ":"
         + escaped(n.event_code) + ":" + escaped(n.success);
}

bool verify_adyen_hmac(const adyen_notification& n, std::string_view key) {
  if (n.hmac_signature.empty() || key.empty())
    return false;
  auto expected = hmac_sha256_base64(key, adyen_signing_string(n));
  return expected.size() == n.hmac_signature.size()
         && CRYPTO_memcmp(expected.data(), n.hmac_signature.data(),
                          expected.size())
              == 0;
}

std::vector<dispute_notice> adyen_dispute_notices(const adyen_notification& n) {
  std::vector<dispute_notice> out;
  if (n.success != "true")
    return out;
  auto notice = [&](const char* change, const char* status = "") {
    dispute_notice d;
    d.message_id = "adyen:" + n.psp_reference + ":" + n.event_code + ":"
                   + n.event_date + ":" + change;
    d.processor = "adyen";
    d.dispute_id = n.psp_reference;
    d.order_id = n.merchant_reference;
    d.payment_ref = n.original_reference;
    d.change = change;
    d.status = status;
    try {
      d.amount_minor = n.value.empty() ? 0 : std::stoll(n.value);
    } catch (...) {
      d.amount_minor = 0;
    }
    d.currency = n.currency;
    d.reason = n.reason;
    d.due_by = n.defense_deadline;
    return d;
  };
  auto& code = n.event_code;
  if (code == "NOTIFICATION_OF_CHARGEBACK" || code == "REQUEST_FOR_INFORMATION")
    out.push_back(notice("opened"));
  else if (code == "CHARGEBACK")
    out.push_back(notice("funds_withdrawn"));
  else if (code == "INFORMATION_SUPPLIED")
    out.push_back(notice("updated", "under_review"));
  else if (code == "CHARGEBACK_REVERSED") {
    out.push_back(notice("funds_reinstated"));
    out.push_back(notice("won"));
  } else if (code == "SECOND_CHARGEBACK" || code == "PREARBITRATION_LOST")
    out.push_back(notice("lost"));
  else if (code == "PREARBITRATION_WON")
    out.push_back(notice("won"));
  return out;
}

std::optional<payment_notice>
adyen_payment_notice(const adyen_notification& n) {
  if (n.merchant_reference.empty() || n.psp_reference.empty())
    return std::nullopt;
  payment_notice p;
  p.message_id
    = "adyen:" + n.psp_reference + ":" + n.event_code + ":" + n.success;
  p.processor = "adyen";
  p.ref = n.psp_reference;
  p.reason = n.reason;
  auto& code = n.event_code;
  if (code == "AUTHORISATION") {
    p.success = n.success == "true";
    return p;
  }
  // A capture or refund Adyen had acknowledged (`received`) did not go
  // through: CAPTURE or REFUND with success false, or the *_FAILED and
  // REFUNDED_REVERSED events (whose success says the event happened). A
  // capture's success is kassa's default already: nothing to tell.
  if (code == "CAPTURE" || code == "CAPTURE_FAILED") {
    if (code == "CAPTURE" && n.success == "true")
      return std::nullopt;
    p.kind = "capture";
    return p;
  }
  if (code == "REFUND" && n.success == "true") {
    // A refund went through: kassa's own (recognised by its reference) or
    // one made elsewhere (Adyen's Customer Area), which is recorded.
    p.kind = "refunded";
    p.success = true;
    try {
      p.amount_minor = n.value.empty() ? 0 : std::stoll(n.value);
    } catch (...) {
      return std::nullopt;
    }
    return p;
  }
  if (code == "REFUND" || code == "REFUND_FAILED"
      || code == "REFUNDED_REVERSED") {
    p.kind = "refund";
    return p;
  }
  return std::nullopt;
}

} // namespace kassa
