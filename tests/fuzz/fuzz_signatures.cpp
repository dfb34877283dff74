// libFuzzer target: what an attacker controls in an authentication check —
// a Stripe-Signature header and the payload it signs, and a customer
// token. The input is split at its first newline into header and payload.

#include <string_view>

#include "adapters/http/customer_token.hpp"
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
  return 0;
}
