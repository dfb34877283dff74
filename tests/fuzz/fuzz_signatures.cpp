// libFuzzer target: what an attacker controls in an authentication check —
// a Stripe-Signature header and the payload it signs, an Adyen notification
// (read, signed items checked, dispute events read), a Stripe event's
// dispute, and a customer token. The input is split at its first newline
// into header and payload.

#include <string_view>

#include "adapters/http/customer_token.hpp"
#include "adapters/providers/adyen_webhook.hpp"
#include "adapters/providers/stripe_webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kassa;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto nl = text.find('\n');
  auto header = text.substr(0, nl);
  auto payload
    = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  (void)verify_stripe_signature(payload, header, "whsec_fuzz", 1'700'000'000);
  (void)verify_customer_token("fuzz-secret", text, 1'700'000'000);
  (void)verify_customer_token("fuzz-secret", header, 1'700'000'000);
  (void)parse_stripe_event(payload);
  if (auto items = parse_adyen_notifications(payload))
    for (auto& item : *items) {
      (void)verify_adyen_hmac(item, "fuzz-key");
      for (auto& notice : adyen_dispute_notices(item))
        (void)check_dispute_notice(notice);
      (void)adyen_payment_notice(item);
    }
  return 0;
}
