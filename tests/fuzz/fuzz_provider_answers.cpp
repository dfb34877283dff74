// libFuzzer target: what a provider sends back — Stripe's PaymentIntent and
// Refund answers, Adyen's payment and modification answers, Billingo's
// partner and document lists and its errors, and Stripe's webhook events. The
// first byte picks the parser and the answer's status; the rest is the body.

#include <string>

#include "actors/provider_protocol.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/adyen.hpp"
#include "adapters/providers/billingo.hpp"
#include "adapters/providers/stripe.hpp"
#include "adapters/providers/stripe_webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kassa;
  if (size == 0)
    return 0;
  static const int statuses[]
    = {200, 201, 202, 400, 402, 404, 409, 422, 429, 500, 503, 0};
  http_outcome out;
  out.status = statuses[(data[0] >> 4) % 12];
  out.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  out.headers.emplace_back("Retry-After", out.body.substr(0, 8));
  provider_call call;
  call.order_id = "o1";
  call.amount_minor = 1500;
  call.currency = "HUF";
  static const char* ops[]
    = {"charge", "capture", "void", "refund", "invoice", "cancel"};
  call.op = ops[(data[0] & 0x0f) % 6];
  switch ((data[0] & 0x0f) % 4) {
    case 0:
      (void)stripe_result(call, out);
      (void)adyen_result(call, out);
      break;
    case 1:
      (void)billingo_partner_id(out, "c1@example.test");
      (void)billingo_document_for(out, "o1");
      break;
    case 2:
      (void)billingo_failure(call, out, data[0] & 0x10);
      break;
    default:
      (void)parse_stripe_event(out.body);
  }
  return 0;
}
