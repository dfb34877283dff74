#include "adapters/providers/adyen.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/provider_errors.hpp"
#include "adapters/providers/provider_results.hpp"
#include "adapters/providers/stripe.hpp" // form_encode: path segments
#include "runtime/json_parse.hpp"
#include "runtime/retry.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

http_call json_post(const provider_call& call, const adyen_settings& s,
                    std::string target, json body) {
  if (!body.contains("details")) // /payments/details names no account
    body["merchantAccount"] = s.merchant_account;
  http_call c;
  c.method = "POST";
  c.target = std::move(target);
  c.content_type = "application/json";
  c.body = body.dump();
  c.headers.emplace_back("X-API-Key", s.api_key);
  if (!call.idempotency_key.empty())
    c.headers.emplace_back("Idempotency-Key", call.idempotency_key);
  return c;
}

json amount_of(const provider_call& call) {
  return {{"currency", call.currency}, {"value", call.amount_minor}};
}

/// The modification's own reference: the step's key (unique per order and
/// step), so Adyen's reports name what kassa journaled.
std::string modification_reference(const provider_call& call) {
  return call.idempotency_key.empty() ? call.order_id : call.idempotency_key;
}

std::string modification_target(const provider_call& call,
                                std::string_view what) {
  return "/payments/" + form_encode(call.ref) + "/" + std::string{what};
}

} // namespace

http_call adyen_request(const provider_call& call, const adyen_settings& s) {
  auto& op = call.op;
  if ((op == "charge" || op == "authorize")
      && is_three_ds_confirmation(call.detail)) {
    // The shopper is back from 3-D Secure: what the return carried goes to
    // /payments/details, under a key of its own (the payment's key
    // answers the first request again).
    auto details = json::parse(three_ds_details(call.detail), nullptr, false);
    if (!details.is_object() || details.empty())
      return {};
    auto request = json_post(call, s, "/payments/details",
                             {{"details", std::move(details)}});
    for (auto& [name, value] : request.headers)
      if (name == "Idempotency-Key")
        value += ":details";
    return request;
  }
  if (op == "charge" || op == "authorize") {
    json body{{"amount", amount_of(call)},
              {"reference", call.order_id},
              {"paymentMethod",
               {{"type", "scheme"}, {"storedPaymentMethodId", call.token}}},
              {"shopperInteraction", "ContAuth"},
              {"recurringProcessingModel", "CardOnFile"},
              {"returnUrl", s.return_url}};
    if (op == "authorize") // captured later: POST .../captures
      body["additionalData"] = {{"manualCapture", "true"}};
    return json_post(call, s, "/payments", std::move(body));
  }
  if (op == "capture")
    return json_post(call, s, modification_target(call, "captures"),
                     {{"amount", amount_of(call)},
                      {"reference", modification_reference(call)}});
  if (op == "void")
    return json_post(call, s, modification_target(call, "cancels"),
                     {{"reference", modification_reference(call)}});
  if (op == "reverse") // cancelled, or refunded if it was captured
    return json_post(call, s, modification_target(call, "reversals"),
                     {{"reference", modification_reference(call)}});
  if (op == "refund")
    return json_post(call, s, modification_target(call, "refunds"),
                     {{"amount", amount_of(call)},
                      {"reference", modification_reference(call)}});
  return {};
}

provider_result adyen_result(const provider_call& call,
                             const http_outcome& out) {
  if (out.status == 0)
    return make_result(call, outcome_of(classify_transport(out.maybe_sent)), {},
                       "adyen: " + out.error);
  auto body = json::parse(out.body, nullptr, false);
  if (out.status >= 300) {
    std::string code, type, message;
    if (body.is_object()) {
      code = string_field(body, "errorCode");
      type = string_field(body, "errorType");
      message = string_field(body, "message");
    }
    int64_t retry_after = 0;
    if (auto ra = parse_retry_after(out.header("Retry-After"),
                                    std::chrono::system_clock::now()))
      retry_after = ra->count();
    return make_result(call, outcome_of(classify_adyen(out.status)), {},
                       "adyen " + std::to_string(out.status) + " "
                         + (code.empty() ? type : code)
                         + (message.empty() ? "" : ": " + message),
                       retry_after);
  }
  if (!body.is_object())
    return make_result(call, provider_outcome::unknown, {},
                       "adyen: unreadable answer");
  auto psp = string_field(body, "pspReference");
  if (call.op != "charge" && call.op != "authorize") {
    // A modification: Adyen took it (`received`); its outcome comes later
    // by webhook, under the same reference.
    if (string_field(body, "status") != "received" || psp.empty())
      return make_result(call, provider_outcome::unknown, {},
                         "adyen: unreadable modification answer");
    return make_result(call, provider_outcome::ok, psp, {});
  }
  auto code = string_field(body, "resultCode");
  if (code == "Authorised")
    return psp.empty() ? make_result(call, provider_outcome::unknown, {},
                                     "adyen: authorised without pspReference")
                       : make_result(call, provider_outcome::ok, psp, {});
  if (code == "RedirectShopper" || code == "IdentifyShopper"
      || code == "ChallengeShopper" || code == "PresentToShopper")
    return make_result(call, provider_outcome::action_required, psp,
                       "adyen " + code + ": 3-D Secure authentication");
  if (code == "Pending" || code == "Received")
    return make_result(call, provider_outcome::pending, psp,
                       "adyen " + code
                         + ": the outcome comes by webhook (AUTHORISATION)");
  auto reason = string_field(body, "refusalReason");
  if (code.empty())
    return make_result(call, provider_outcome::unknown, psp,
                       "adyen: answer without resultCode");
  return make_result(call, provider_outcome::permanent, psp,
                     "adyen " + code + (reason.empty() ? "" : ": " + reason));
}

namespace {

void adyen_perform(const std::shared_ptr<http_client>& client,
                   const adyen_settings& s, provider_call call) {
  auto request = adyen_request(call, s);
  if (request.target.empty() && is_three_ds_confirmation(call.detail)) {
    // Adyen has no read of a payment: without the shopper's result there
    // is nothing to ask it.
    auto r = make_result(call, provider_outcome::permanent, {},
                         "adyen: a 3-D Secure confirmation needs the "
                         "shopper's details (POST .../payment/confirm "
                         "with {\"details\": {\"redirectResult\": …}})");
    caf::anon_send(call.reply_to, std::move(r));
    return;
  }
  if (request.target.empty()) {
    auto r = make_result(call, provider_outcome::permanent, {},
                         "unsupported operation " + call.op + " for adyen");
    caf::anon_send(call.reply_to, std::move(r));
    return;
  }
  client->send(std::move(request), [call](http_outcome out) {
    caf::anon_send(call.reply_to, adyen_result(call, out));
  });
}

caf::behavior adyen_adapter(caf::event_based_actor*,
                            std::shared_ptr<http_client> client,
                            adyen_settings settings) {
  return {
    [client, settings](atom::call, provider_call& call) {
      adyen_perform(client, settings, std::move(call));
    },
    [client](atom::info) {
      return json{{"base_url", client->options().base_url}}.dump();
    },
  };
}

} // namespace

caf::actor spawn_adyen_adapter(caf::local_actor* parent,
                               std::shared_ptr<http_client> client,
                               adyen_settings settings) {
  return parent->spawn(adyen_adapter, std::move(client), std::move(settings));
}

} // namespace kassa
