// The Adyen Checkout adapter's requests and how it reads answers (the
// contract test sends the same requests to a mock of Adyen's spec).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/client.hpp"
#include "adapters/providers/adyen.hpp"
#include "adapters/providers/provider_errors.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

adyen_settings settings() {
  return {"adyen-key", "KassaShop", "https://shop.example/return"};
}

provider_call call(std::string op) {
  provider_call c;
  c.message_id = "ord_a:charge_payment:1";
  c.idempotency_key = "ord_a:charge_payment";
  c.op = std::move(op);
  c.order_id = "ord_a";
  c.amount_minor = 2500;
  c.currency = "EUR";
  c.token = "8415718415172200";
  c.ref = "PSP 1/2";
  return c;
}

http_outcome answer(int status, json body) {
  http_outcome out;
  out.status = status;
  out.body = body.dump();
  return out;
}

std::string header(const http_call& c, const std::string& name) {
  for (auto& [k, v] : c.headers)
    if (k == name)
      return v;
  return {};
}

} // namespace

TEST_CASE("Adyen requests: payments, modifications, keys and merchant",
          "[providers][adyen]") {
  auto s = settings();
  auto charge = adyen_request(call("charge"), s);
  CHECK(charge.method == "POST");
  CHECK(charge.target == "/payments");
  CHECK(charge.content_type == "application/json");
  CHECK(header(charge, "X-API-Key") == "adyen-key");
  CHECK(header(charge, "Idempotency-Key") == "ord_a:charge_payment");
  auto body = json::parse(charge.body);
  CHECK(body["merchantAccount"] == "KassaShop");
  CHECK(body["reference"] == "ord_a");
  CHECK(body["amount"] == json{{"currency", "EUR"}, {"value", 2500}});
  CHECK(body["paymentMethod"]["storedPaymentMethodId"] == "8415718415172200");
  CHECK(body["returnUrl"] == "https://shop.example/return");
  CHECK_FALSE(body.contains("additionalData"));
  auto authorize = json::parse(adyen_request(call("authorize"), s).body);
  CHECK(authorize["additionalData"]["manualCapture"] == "true");
  // Modifications name the payment in the path (escaped) and carry their
  // own reference: the step's key.
  auto capture = adyen_request(call("capture"), s);
  CHECK(capture.target == "/payments/PSP%201%2F2/captures");
  CHECK(json::parse(capture.body)["reference"] == "ord_a:charge_payment");
  CHECK(json::parse(capture.body)["amount"]["value"] == 2500);
  auto cancel = adyen_request(call("void"), s);
  CHECK(cancel.target == "/payments/PSP%201%2F2/cancels");
  CHECK_FALSE(json::parse(cancel.body).contains("amount"));
  CHECK(adyen_request(call("refund"), s).target
        == "/payments/PSP%201%2F2/refunds");
  auto reversal = adyen_request(call("reverse"), s);
  CHECK(reversal.target == "/payments/PSP%201%2F2/reversals");
  CHECK(json::parse(reversal.body)["merchantAccount"] == "KassaShop");
  CHECK(adyen_request(call("invoice"), s).target.empty());
}

TEST_CASE("after 3-D Secure the shopper's details go to /payments/details",
          "[providers][adyen]") {
  auto s = settings();
  auto confirmed = call("charge");
  confirmed.detail = R"(3ds_confirmed:{"redirectResult":"X6XtfGC3!Y..."})";
  auto request = adyen_request(confirmed, s);
  CHECK(request.target == "/payments/details");
  CHECK(header(request, "Idempotency-Key") == "ord_a:charge_payment:details");
  auto body = json::parse(request.body);
  CHECK(body == json{{"details", {{"redirectResult", "X6XtfGC3!Y..."}}}});
  // Without details there is nothing to send (the adapter refuses it).
  confirmed.detail = "3ds_confirmed";
  CHECK(adyen_request(confirmed, s).target.empty());
  CHECK(is_three_ds_confirmation("3ds_confirmed"));
  CHECK(is_three_ds_confirmation("3ds_confirmed:{}"));
  CHECK_FALSE(is_three_ds_confirmation("3ds_confirmedx"));
  CHECK(three_ds_details("3ds_confirmed:{\"a\":\"b\"}") == "{\"a\":\"b\"}");
  CHECK(three_ds_details("3ds_confirmed").empty());
}

TEST_CASE("Adyen answers: result codes, modifications and errors",
          "[providers][adyen]") {
  auto c = call("charge");
  auto ok = adyen_result(
    c, answer(200, {{"resultCode", "Authorised"}, {"pspReference", "P1"}}));
  CHECK(ok.outcome == provider_outcome::ok);
  CHECK(ok.ref == "P1");
  CHECK(ok.message_id == c.message_id);
  auto refused = adyen_result(c, answer(200, {{"resultCode", "Refused"},
                                              {"pspReference", "P2"},
                                              {"refusalReason", "Declined"}}));
  CHECK(refused.outcome == provider_outcome::permanent);
  CHECK(refused.error == "adyen Refused: Declined");
  CHECK(
    adyen_result(c, answer(200, {{"resultCode", "RedirectShopper"}})).outcome
    == provider_outcome::action_required);
  // Pending names a payment that Adyen decides later (its AUTHORISATION
  // webhook): the charge waits for it, never rerouted.
  auto pending = adyen_result(
    c, answer(200, {{"resultCode", "Pending"}, {"pspReference", "P3"}}));
  CHECK(pending.outcome == provider_outcome::pending);
  CHECK(pending.ref == "P3");
  CHECK(adyen_result(c, answer(200, {{"resultCode", "Authorised"}})).outcome
        == provider_outcome::unknown);
  auto received = adyen_result(call("capture"),
                               answer(201, {{"status", "received"},
                                            {"pspReference", "M1"},
                                            {"paymentPspReference", "P1"}}));
  CHECK(received.outcome == provider_outcome::ok);
  CHECK(received.ref == "M1");
  auto invalid = adyen_result(c, answer(422, {{"status", 422},
                                              {"errorCode", "14_030"},
                                              {"message", "Return URL is "
                                                          "missing."},
                                              {"errorType", "validation"}}));
  CHECK(invalid.outcome == provider_outcome::permanent);
  CHECK(invalid.error == "adyen 422 14_030: Return URL is missing.");
  CHECK(adyen_result(c, answer(503, json::object())).outcome
        == provider_outcome::transient);
  CHECK(adyen_result(c, answer(500, json::object())).outcome
        == provider_outcome::unknown);
  http_outcome lost;
  lost.error = "read timeout";
  lost.maybe_sent = true;
  CHECK(adyen_result(c, lost).outcome == provider_outcome::unknown);
  lost.maybe_sent = false;
  CHECK(adyen_result(c, lost).outcome == provider_outcome::transient);
  http_outcome garbled;
  garbled.status = 200;
  garbled.body = "<html>";
  CHECK(adyen_result(c, garbled).outcome == provider_outcome::unknown);
}

TEST_CASE("Adyen errors are classified by status", "[providers][adyen]") {
  CHECK(classify_adyen(400) == failure_class::permanent);
  CHECK(classify_adyen(401) == failure_class::permanent);
  CHECK(classify_adyen(422) == failure_class::permanent);
  CHECK(classify_adyen(429) == failure_class::transient);
  CHECK(classify_adyen(503) == failure_class::transient);
  CHECK(classify_adyen(500) == failure_class::unknown_outcome);
}
