// Adyen's standard webhooks: the signing string and HMAC (against the test
// vector of Adyen's own API libraries), a wrong key and a tampered item
// refused, and the dispute events read into notices.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/providers/adyen_webhook.hpp"
#include "runtime/hmac.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

// Adyen's sample key and the signature its libraries expect for the item
// below (adyen-ruby-api-library, spec/utils/hmac_validator_spec.rb).
const std::string sample_key_hex
  = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

json sample_item(const std::string& signature) {
  return {{"additionalData", {{"hmacSignature", signature}}},
          {"amount", {{"value", 1130}, {"currency", "EUR"}}},
          {"pspReference", "7914073381342284"},
          {"eventCode", "AUTHORISATION"},
          {"merchantAccountCode", "TestMerchant"},
          {"merchantReference", "TestPayment-1407325143704"},
          {"paymentMethod", "visa"},
          {"success", "true"}};
}

adyen_notification parse_one(const json& item) {
  json body{
    {"live", "false"},
    {"notificationItems", json::array({{{"NotificationRequestItem", item}}})}};
  auto items = parse_adyen_notifications(body.dump());
  REQUIRE(items);
  REQUIRE(items->size() == 1);
  return (*items)[0];
}

} // namespace

TEST_CASE("an Adyen notification item verifies against Adyen's test vector",
          "[adyen][webhook]") {
  auto key = bytes_from_hex(sample_key_hex);
  REQUIRE(key);
  auto item
    = parse_one(sample_item("coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="));
  CHECK(adyen_signing_string(item)
        == "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:"
           "AUTHORISATION:true");
  CHECK(verify_adyen_hmac(item, *key));

  SECTION("a wrong key does not verify") {
    auto other = bytes_from_hex(std::string(64, 'A'));
    CHECK_FALSE(verify_adyen_hmac(item, *other));
  }
  SECTION("a tampered item does not verify") {
    auto tampered = item;
    tampered.value = "11300";
    CHECK_FALSE(verify_adyen_hmac(tampered, *key));
    tampered = item;
    tampered.merchant_reference = "ord_someone_else";
    CHECK_FALSE(verify_adyen_hmac(tampered, *key));
  }
  SECTION("no or a malformed signature does not verify") {
    auto unsigned_item = item;
    unsigned_item.hmac_signature.clear();
    CHECK_FALSE(verify_adyen_hmac(unsigned_item, *key));
    unsigned_item.hmac_signature = "invalidHMACsign";
    CHECK_FALSE(verify_adyen_hmac(unsigned_item, *key));
  }
}

TEST_CASE("a colon or backslash in an Adyen value cannot shift the signed "
          "fields",
          "[adyen][webhook]") {
  adyen_notification a;
  a.psp_reference = "1";
  a.merchant_account = "Test:\\Merchant";
  CHECK(adyen_signing_string(a) == "1::Test\\:\\\\Merchant:::::");
  adyen_notification b;
  b.psp_reference = "1";
  b.merchant_account = "Test";
  b.merchant_reference = "Merchant";
  CHECK(adyen_signing_string(a) != adyen_signing_string(b));
}

TEST_CASE("bodies that are not Adyen notifications are refused whole",
          "[adyen][webhook]") {
  CHECK_FALSE(parse_adyen_notifications("not json"));
  CHECK_FALSE(parse_adyen_notifications("{}"));
  CHECK_FALSE(parse_adyen_notifications(R"({"notificationItems":{}})"));
  CHECK_FALSE(parse_adyen_notifications(R"({"notificationItems":[1]})"));
  CHECK(parse_adyen_notifications(R"({"notificationItems":[]})")->empty());
}

TEST_CASE("Adyen's chargeback events become dispute notices",
          "[adyen][webhook][disputes]") {
  auto item = parse_one({{"additionalData",
                          {{"hmacSignature", "x"},
                           {"defenseDeadlineDate", "2027-01-10T00:00:00Z"}}},
                         {"amount", {{"value", 1500}, {"currency", "EUR"}}},
                         {"pspReference", "9915555555555555"},
                         {"originalReference", "8815555555555555"},
                         {"merchantReference", "ord_1"},
                         {"merchantAccountCode", "Shop"},
                         {"eventCode", "NOTIFICATION_OF_CHARGEBACK"},
                         {"eventDate", "2026-12-06T10:00:00+01:00"},
                         {"reason", "Fraud"},
                         {"success", "true"}});
  auto opened = adyen_dispute_notices(item);
  REQUIRE(opened.size() == 1);
  CHECK(opened[0].change == "opened");
  CHECK(opened[0].processor == "adyen");
  CHECK(opened[0].dispute_id == "9915555555555555");
  CHECK(opened[0].payment_ref == "8815555555555555");
  CHECK(opened[0].order_id == "ord_1");
  CHECK(opened[0].amount_minor == 1500);
  CHECK(opened[0].due_by == "2027-01-10T00:00:00Z");
  CHECK(check_dispute_notice(opened[0]).empty());

  item.event_code = "CHARGEBACK";
  CHECK(adyen_dispute_notices(item)[0].change == "funds_withdrawn");
  item.event_code = "CHARGEBACK_REVERSED";
  auto reversed = adyen_dispute_notices(item);
  REQUIRE(reversed.size() == 2);
  CHECK(reversed[0].change == "funds_reinstated");
  CHECK(reversed[1].change == "won");
  CHECK(reversed[0].message_id != reversed[1].message_id);
  item.event_code = "SECOND_CHARGEBACK";
  CHECK(adyen_dispute_notices(item)[0].change == "lost");
  item.event_code = "AUTHORISATION";
  CHECK(adyen_dispute_notices(item).empty());
  item.event_code = "CHARGEBACK";
  item.success = "false";
  CHECK(adyen_dispute_notices(item).empty());
}

TEST_CASE("AUTHORISATION and failed modifications are payment notices for "
          "the merchant reference and other events are none",
          "[adyen][webhooks]") {
  adyen_notification item;
  item.event_code = "AUTHORISATION";
  item.psp_reference = "8535296650153317";
  item.merchant_reference = "ord_1";
  item.success = "false";
  item.reason = "Refused";
  auto n = adyen_payment_notice(item);
  REQUIRE(n);
  CHECK_FALSE(n->success);
  CHECK(n->kind == "authorisation");
  CHECK(n->ref == "8535296650153317");
  CHECK(n->processor == "adyen");
  CHECK(n->reason == "Refused");
  item.success = "true";
  auto ok = adyen_payment_notice(item);
  REQUIRE(ok);
  CHECK(ok->success);
  CHECK(ok->message_id != n->message_id); // each outcome its own message
  // A capture that went through tells nothing, a refund does (it may have
  // been made elsewhere); one that failed does.
  item.event_code = "CAPTURE";
  CHECK_FALSE(adyen_payment_notice(item));
  item.event_code = "REFUND";
  item.value = "700";
  auto refunded = adyen_payment_notice(item);
  REQUIRE(refunded);
  CHECK(refunded->kind == "refunded");
  CHECK(refunded->amount_minor == 700);
  item.success = "false";
  auto refund = adyen_payment_notice(item);
  REQUIRE(refund);
  CHECK(refund->kind == "refund");
  CHECK_FALSE(refund->success);
  item.success = "true";
  for (auto code : {"REFUND_FAILED", "REFUNDED_REVERSED"}) {
    item.event_code = code;
    auto failed = adyen_payment_notice(item);
    REQUIRE(failed);
    CHECK(failed->kind == "refund");
    CHECK_FALSE(failed->success);
  }
  item.event_code = "CAPTURE_FAILED";
  auto capture = adyen_payment_notice(item);
  REQUIRE(capture);
  CHECK(capture->kind == "capture");
  CHECK_FALSE(capture->success);
  item.event_code = "REPORT_AVAILABLE";
  CHECK_FALSE(adyen_payment_notice(item));
  item.event_code = "AUTHORISATION";
  item.merchant_reference.clear();
  CHECK_FALSE(adyen_payment_notice(item));
}
