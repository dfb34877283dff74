#include <catch2/catch.hpp>

#include "adapters/http/client.hpp"
#include "adapters/providers/billingo.hpp"
#include "adapters/providers/stripe.hpp"

using namespace kassa;

namespace {

provider_call call_of(std::string op) {
  provider_call c;
  c.message_id = "ord_1:charge_payment:1";
  c.idempotency_key = "ord_1:charge_payment";
  c.op = std::move(op);
  c.order_id = "ord_1";
  c.amount_minor = 1500;
  c.currency = "EUR";
  c.token = "pm_card_visa";
  c.ref = "pi_1";
  return c;
}

http_outcome answer(int status, std::string body, header_pairs h = {}) {
  http_outcome o;
  o.status = status;
  o.body = std::move(body);
  o.headers = std::move(h);
  return o;
}

} // namespace

TEST_CASE("Stripe answers map to saga outcomes", "[stripe]") {
  auto charge = call_of("charge");
  auto r = stripe_result(charge,
                         answer(200, R"({"id":"pi_9","object":"payment_intent",
                           "status":"succeeded"})"));
  CHECK(r.outcome == provider_outcome::ok);
  CHECK(r.ref == "pi_9");
  CHECK(r.message_id == charge.message_id);
  r = stripe_result(charge, answer(200, R"({"id":"pi_9","status":
                                           "requires_action"})"));
  CHECK(r.outcome == provider_outcome::action_required);
  CHECK(r.ref == "pi_9");
  r = stripe_result(charge, answer(200, R"({"id":"pi_9","status":
    "requires_payment_method","last_payment_error":{"message":"no funds"}})"));
  CHECK(r.outcome == provider_outcome::permanent);
  CHECK(r.error.find("no funds") != std::string::npos);
  r = stripe_result(charge, answer(402, R"({"error":{"type":"card_error",
    "code":"card_declined","message":"Your card was declined."}})"));
  CHECK(r.outcome == provider_outcome::permanent);
  CHECK(r.error == "stripe 402 card_declined: Your card was declined.");
  r = stripe_result(charge, answer(429, R"({"error":{"type":"api_error"}})",
                                   {{"Retry-After", "2"}}));
  CHECK(r.outcome == provider_outcome::transient);
  CHECK(r.retry_after_ms == 2000);
  CHECK(stripe_result(charge, answer(500, "{}")).outcome
        == provider_outcome::unknown);
  CHECK(stripe_result(charge, answer(200, "not json")).outcome
        == provider_outcome::unknown);
  // Found by fuzz_provider_answers: fields of the wrong type (nlohmann's
  // value() threw) read as absent — a declined-looking answer, no throw.
  r = stripe_result(charge, answer(200, R"({"id":"pi_1","object":1500,
    "status":["succeeded"],"last_payment_error":{"message":7}})"));
  CHECK(r.outcome == provider_outcome::permanent);
  CHECK(r.ref == "pi_1");
  r = stripe_result(charge, answer(402, R"({"error":{"type":1,"code":{},
    "message":null}})"));
  CHECK(r.outcome == provider_outcome::permanent);
  http_outcome refused;
  refused.error = "connect: Connection refused";
  CHECK(stripe_result(charge, refused).outcome == provider_outcome::transient);
  refused.maybe_sent = true;
  CHECK(stripe_result(charge, refused).outcome == provider_outcome::unknown);
  auto refund = call_of("refund");
  CHECK(stripe_result(refund, answer(200, R"({"id":"re_1","object":"refund",
                                             "status":"succeeded"})"))
          .ref
        == "re_1");
  r = stripe_result(refund, answer(400, R"({"error":{"type":
    "invalid_request_error","code":"charge_already_refunded"}})"));
  CHECK(r.outcome == provider_outcome::ok);
}

TEST_CASE("Stripe requests carry the idempotency key and form fields",
          "[stripe]") {
  auto req = stripe_request(call_of("charge"), "sk_test_1");
  CHECK(req.method == "POST");
  CHECK(req.target == "/v1/payment_intents");
  CHECK(req.content_type == "application/x-www-form-urlencoded");
  CHECK(req.body.find("amount=1500") != std::string::npos);
  CHECK(req.body.find("currency=eur") != std::string::npos);
  CHECK(req.body.find("metadata%5Border_id%5D=ord_1") != std::string::npos);
  bool key = false, auth = false;
  for (auto& [k, v] : req.headers) {
    key |= k == "Idempotency-Key" && v == "ord_1:charge_payment";
    auth |= k == "Authorization" && v == "Bearer sk_test_1";
  }
  CHECK(key);
  CHECK(auth);
  CHECK(stripe_request(call_of("refund"), "k").target == "/v1/refunds");
  CHECK(stripe_request(call_of("void"), "k").target
        == "/v1/payment_intents/pi_1/cancel");
  CHECK(stripe_request(call_of("teleport"), "k").target.empty());
  CHECK(form_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
}

TEST_CASE("Billingo answers: partners, documents by order, failures",
          "[billingo]") {
  auto list = answer(200, R"({"data":[
    {"id":5,"name":"someone else","emails":["x@example.test"]},
    {"id":6,"name":"Anna","emails":["anna@example.test"]}]})");
  CHECK(billingo_partner_id(list, "anna@example.test") == 6);
  CHECK_FALSE(billingo_partner_id(list, "bob@example.test"));
  CHECK(billingo_partner_id(answer(201, R"({"id":0,"name":"n"})"), "n") == 0);
  auto docs = answer(200, R"({"data":[
    {"id":10,"comment":"kassa-order:ord_10"},
    {"id":11,"comment":"kassa-order:ord_1"}]})");
  CHECK(billingo_document_for(docs, "ord_1") == "11");
  CHECK(billingo_document_for(docs, "ord_2").empty());
  auto call = call_of("invoice");
  auto r = billingo_failure(
    call, answer(422, R"({"error":{"message":"block_id is invalid"}})"), true);
  CHECK(r.outcome == provider_outcome::permanent);
  CHECK(r.error == "billingo 422: block_id is invalid");
  CHECK(billingo_failure(call, answer(429, "{}", {{"Retry-After", "3"}}), true)
          .retry_after_ms
        == 3000);
  CHECK(billingo_failure(call, answer(503, "{}"), true).outcome
        == provider_outcome::unknown);
  CHECK(billingo_failure(call, answer(503, "{}"), false).outcome
        == provider_outcome::transient);
  billingo_settings s;
  s.api_key = "key";
  s.block_id = 3;
  auto create = billingo_create_invoice(s, call, 6);
  CHECK(create.target == "/documents");
  CHECK(create.body.find("\"comment\":\"kassa-order:ord_1\"")
        != std::string::npos);
  CHECK(create.body.find("\"block_id\":3") != std::string::npos);
  CHECK(create.body.find("\"unit_price\":15.0") != std::string::npos);
  bool api_key = false;
  for (auto& [k, v] : create.headers)
    api_key |= k == "X-API-KEY" && v == "key";
  CHECK(api_key);
}
