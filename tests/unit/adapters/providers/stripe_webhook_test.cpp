#include <catch2/catch.hpp>

#include "adapters/providers/stripe_webhook.hpp"
#include "runtime/hmac.hpp"

using namespace kassa;

namespace {

const std::string payload
  = R"({"id":"evt_1","type":"payment_intent.succeeded"})";
const std::string secret = "whsec_test";

std::string header_for(int64_t t, const std::string& body,
                       const std::string& key) {
  return "t=" + std::to_string(t)
         + ",v1=" + hmac_sha256_hex(key, std::to_string(t) + "." + body);
}

} // namespace

TEST_CASE("a correctly signed webhook is valid", "[webhook]") {
  auto h = header_for(1000, payload, secret);
  CHECK(verify_stripe_signature(payload, h, secret, 1000)
        == webhook_verdict::valid);
  CHECK(verify_stripe_signature(payload, h, secret, 1299)
        == webhook_verdict::valid);
  // Several v1 signatures (secret rotation): one match is enough.
  auto rotated
    = "t=1000,v1=" + std::string(64, 'a') + "," + h.substr(h.find("v1="));
  CHECK(verify_stripe_signature(payload, rotated, secret, 1000)
        == webhook_verdict::valid);
}

TEST_CASE("wrong secret, tampered body and stale timestamps are refused",
          "[webhook]") {
  auto h = header_for(1000, payload, secret);
  CHECK(verify_stripe_signature(payload, h, "whsec_other", 1000)
        == webhook_verdict::signature_mismatch);
  CHECK(verify_stripe_signature(payload + " ", h, secret, 1000)
        == webhook_verdict::signature_mismatch);
  CHECK(verify_stripe_signature(payload, h, secret, 1000 + 301)
        == webhook_verdict::timestamp_out_of_range);
  CHECK(verify_stripe_signature(payload, h, secret, 1000 - 301)
        == webhook_verdict::timestamp_out_of_range);
  // A re-signed timestamp without the secret does not match.
  auto moved = "t=2000" + h.substr(h.find(','));
  CHECK(verify_stripe_signature(payload, moved, secret, 2000)
        == webhook_verdict::signature_mismatch);
  for (auto bad : {"", "t=1000", "v1=abc", "t=x,v1=abc", "garbage"})
    CHECK(verify_stripe_signature(payload, bad, secret, 1000)
          == webhook_verdict::malformed_header);
}

TEST_CASE("Stripe events: id, type and the order id, or nothing", "[webhook]") {
  auto e = parse_stripe_event(
    R"({"id":"evt_1","type":"payment_intent.succeeded","data":{"object":)"
    R"({"metadata":{"order_id":"o-7"}}}})");
  REQUIRE(e);
  CHECK(e->id == "evt_1");
  CHECK(e->type == "payment_intent.succeeded");
  CHECK(e->order_id == "o-7");
  auto bare = parse_stripe_event(R"({"id":"evt_2","type":"x","data":[1]})");
  REQUIRE(bare);
  CHECK(bare->order_id.empty());
  for (auto bad : {"", "[]", "{}", R"({"id":1,"type":"x"})",
                   R"({"id":"e","type":1e400})", R"({"id":"e"})"})
    CHECK_FALSE(parse_stripe_event(bad));
  CHECK(
    parse_stripe_event(
      R"({"id":"e","type":"t","data":{"object":{"metadata":{"order_id":5}}}})")
      ->order_id.empty());
}
