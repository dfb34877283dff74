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
  CHECK(bare->object_id.empty());
  auto failed = parse_stripe_event(
    R"({"id":"evt_3","type":"payment_intent.payment_failed","data":)"
    R"({"object":{"id":"pi_9","last_payment_error":{"message":"declined"},)"
    R"("metadata":{"order_id":"o-8"}}}})");
  REQUIRE(failed);
  CHECK(failed->object_id == "pi_9");
  CHECK(failed->failure_message == "declined");
  CHECK(failed->order_id == "o-8");
  for (auto bad : {"", "[]", "{}", R"({"id":1,"type":"x"})",
                   R"({"id":"e","type":1e400})", R"({"id":"e"})"})
    CHECK_FALSE(parse_stripe_event(bad));
  CHECK(
    parse_stripe_event(
      R"({"id":"e","type":"t","data":{"object":{"metadata":{"order_id":5}}}})")
      ->order_id.empty());
}

namespace {

std::string dispute_event(const std::string& type, const std::string& status,
                          bool with_metadata = false) {
  std::string metadata = with_metadata ? R"({"order_id":"ord_9"})" : "{}";
  return R"({"id":"evt_d1","object":"event","type":")" + type
         + R"(","data":{"object":{"id":"dp_1","object":"dispute",)"
           R"("amount":1500,"currency":"eur","charge":"ch_1",)"
           R"("payment_intent":"pi_1","reason":"fraudulent","status":")"
         + status + R"(","evidence_details":{"due_by":1767225600},"metadata":)"
         + metadata + "}}}";
}

} // namespace

TEST_CASE("Stripe dispute events are read into dispute notices",
          "[webhook][disputes]") {
  auto created = parse_stripe_event(
    dispute_event("charge.dispute.created", "needs_response"));
  REQUIRE(created);
  REQUIRE(created->dispute);
  auto& n = *created->dispute;
  CHECK(n.message_id == "evt_d1");
  CHECK(n.processor == "stripe");
  CHECK(n.dispute_id == "dp_1");
  CHECK(n.payment_ref == "pi_1");
  CHECK(n.order_id.empty()); // found by the payment
  CHECK(n.change == "opened");
  CHECK(n.amount_minor == 1500);
  CHECK(n.currency == "EUR");
  CHECK(n.reason == "fraudulent");
  CHECK(n.due_by == "2026-01-01T00:00:00Z");
  CHECK(check_dispute_notice(n).empty());

  auto named = parse_stripe_event(
    dispute_event("charge.dispute.created", "needs_response", true));
  CHECK(named->dispute->order_id == "ord_9");

  auto review = parse_stripe_event(
    dispute_event("charge.dispute.updated", "under_review"));
  CHECK(review->dispute->change == "updated");
  CHECK(review->dispute->status == "under_review");
  auto inquiry = parse_stripe_event(
    dispute_event("charge.dispute.updated", "warning_needs_response"));
  CHECK(inquiry->dispute->status == "needs_response");

  CHECK(parse_stripe_event(dispute_event("charge.dispute.closed", "lost"))
          ->dispute->change
        == "lost");
  CHECK(parse_stripe_event(dispute_event("charge.dispute.closed", "won"))
          ->dispute->change
        == "won");
  CHECK(
    parse_stripe_event(dispute_event("charge.dispute.closed", "warning_closed"))
      ->dispute->change
    == "won");
  CHECK(parse_stripe_event(
          dispute_event("charge.dispute.funds_withdrawn", "needs_response"))
          ->dispute->change
        == "funds_withdrawn");
  CHECK(
    parse_stripe_event(dispute_event("charge.dispute.funds_reinstated", "won"))
      ->dispute->change
    == "funds_reinstated");
  // Not a dispute, or a dispute type kassa does not act on.
  CHECK_FALSE(parse_stripe_event(payload)->dispute);
  CHECK_FALSE(
    parse_stripe_event(dispute_event("charge.dispute.whatever", "lost"))
      ->dispute);
  CHECK_FALSE(parse_stripe_event(
                R"({"id":"evt_2","type":"charge.dispute.created","data":1})")
                ->dispute);
}
