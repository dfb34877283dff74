// The Twilio adapter against Twilio's own OpenAPI description of API
// 2010-04-01 (specs/twilio_api_v2010.json, see specs/SOURCES.md) served by a
// validating Prism mock: SMS and calls as the spec takes them, and a node
// that sends an SMS through two Twilio-compatible accounts, fails over from
// the first when it is out, and takes the signed delivery report.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/contact_logic.hpp"
#include "adapters/providers/twilio.hpp"
#include "prism.hpp"
#include "support/shop.hpp"

using namespace kassa;
using namespace kassa::test;
using json = nlohmann::json;

namespace {

const twilio_settings account{"AC0123456789abcdef0123456789abcdef",
                              "contract-token", "+15005550006",
                              "https://shop.example/v1/webhooks/twilio"};

provider_call sms_call(std::string channel, std::string body) {
  outbound_message m{"sms-c1",
                     std::move(channel),
                     "+36201234567",
                     "",
                     std::move(body),
                     "ord_c1",
                     0,
                     {}};
  return contact_call(m, 1);
}

} // namespace

TEST_CASE("the Twilio adapter's requests satisfy Twilio's spec",
          "[contract][twilio]") {
  static prism_server prism{"twilio_api_v2010.json"};
  auto client = prism.client();
  std::string why;
  SECTION("the mock rejects what the spec does not allow") {
    auto bad = twilio_request(sms_call("sms", "x"), account, why);
    bad.body = "From=%2B15005550006&Body=x"; // no To
    auto out = exchange(*client, bad);
    CHECK(out.status == 422);
    // (The spec has no 422 of its own: Prism says why in the body.)
    CHECK(out.body.find("must have required property 'To'")
          != std::string::npos);
    // Nor without the account's credentials.
    auto anonymous = twilio_request(sms_call("sms", "x"), account, why);
    anonymous.headers.clear();
    CHECK(exchange(*client, anonymous).status == 401);
  }
  SECTION("an SMS and a call") {
    for (auto channel : {"sms", "voice"}) {
      INFO(channel);
      auto call = sms_call(channel, "Your code is 1234 & <ok>");
      auto request = twilio_request(call, account, why);
      REQUIRE_FALSE(request.target.empty());
      auto out = exchange(*client, request);
      check_valid(out);
      auto r = twilio_result(call, out);
      CHECK(r.outcome == provider_outcome::ok);
      CHECK(r.ref.rfind(channel == std::string{"sms"} ? "SM" : "CA", 0) == 0);
    }
  }
  SECTION("429 is transient, 500 an unknown outcome (no idempotency key)") {
    auto call = sms_call("sms", "x");
    auto limited = prism.client({{"Prefer", "code=429"}});
    auto out = exchange(*limited, twilio_request(call, account, why));
    if (out.status == 429) // the spec may not list 429: then Prism says so
      CHECK(twilio_result(call, out).outcome == provider_outcome::transient);
    http_outcome broken;
    broken.status = 500;
    broken.body = R"({"code":20500,"message":"Internal Server Error"})";
    CHECK(twilio_result(call, broken).outcome == provider_outcome::unknown);
  }
}

TEST_CASE("a node sends SMS through Twilio-compatible accounts, fails over "
          "and takes the signed delivery report",
          "[contract][twilio]") {
  static prism_server prism{"twilio_api_v2010.json"};
  auto closed = free_port(); // the first account's API is unreachable
  const std::string callback = "https://shop.example/v1/webhooks/twilio";
  shop s{
    {"KASSA_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001",
     "KASSA_TWILIO_AUTH_TOKEN=first-token", "KASSA_TWILIO_FROM=+15005550006",
     "KASSA_TWILIO_BASE_URL=http://127.0.0.1:" + std::to_string(closed),
     "KASSA_TWILIO_STATUS_CALLBACK=" + callback,
     "KASSA_TWILIO2_ACCOUNT_SID=AC00000000000000000000000000000002",
     "KASSA_TWILIO2_AUTH_TOKEN=second-token", "KASSA_TWILIO2_FROM=+15005550007",
     "KASSA_TWILIO2_BASE_URL=http://127.0.0.1:" + std::to_string(prism.port),
     "KASSA_CONTACT_SMS=twilio,twilio-2",
     "KASSA_PROVIDERS_CALL_TIMEOUT_MS=20000"}};
  auto r = s.post("/v1/messages", {{"id", "otp-1"},
                                   {"channel", "sms"},
                                   {"to", "+36201234567"},
                                   {"body", "Your code is 1234"}});
  REQUIRE(r.status == 202);
  json m;
  eventually(
    [&] {
      m = s.get("/v1/messages/otp-1");
      return m["status"] == "sent" || m["status"] == "failed";
    },
    60s);
  INFO(m.dump());
  REQUIRE(m["status"] == "sent");
  CHECK(m["provider"] == "twilio-2");
  CHECK(m["attempts"][0]["provider"] == "twilio");
  std::string sid = m["provider_ref"];
  CHECK(sid.rfind("SM", 0) == 0);
  // The delivery report, signed by the second account's token.
  std::vector<std::pair<std::string, std::string>> params{
    {"AccountSid", "AC00000000000000000000000000000002"},
    {"MessageSid", sid},
    {"MessageStatus", "delivered"}};
  std::string body;
  for (auto& [k, v] : params)
    body += (body.empty() ? "" : "&") + k + "=" + v;
  auto post = [&](const std::string& signature) {
    return http_request(s.port, "POST", "/v1/webhooks/twilio",
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"X-Twilio-Signature", signature}},
                        body);
  };
  CHECK(post(twilio_signature("first-token", callback, params)).status == 400);
  auto ok = post(twilio_signature("second-token", callback, params));
  INFO(ok.body);
  CHECK(ok.status == 200);
  CHECK(s.get("/v1/messages/otp-1")["status"] == "delivered");
}
