// The Adyen Checkout adapter against a Prism mock of Adyen's official
// Checkout API v71 spec (specs/adyen-checkout-v71.openapi.json, OpenAPI
// 3.1, served as it is): every request the adapter sends is validated, the
// spec's 422 and 500 answers go through the error mapping, and a real node
// charges an order through it.

#include <set>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "adapters/providers/adyen.hpp"
#include "prism.hpp"
#include "support/shop.hpp"

using namespace kassa;
using namespace kassa::test;

namespace {

adyen_settings adyen_contract_settings() {
  return {"adyen-contract-key", "KassaContract",
          "https://shop.example/kassa/return"};
}

provider_call adyen_call(std::string op) {
  auto c = order_call(std::move(op));
  c.currency = "EUR";
  c.amount_minor = 2500;
  c.token = "8415718415172200";
  c.ref = "993617894903480A";
  return c;
}

} // namespace

TEST_CASE("the Adyen adapter's requests satisfy Adyen's spec",
          "[contract][adyen]") {
  static prism_server prism{"adyen-checkout-v71.openapi.json"};
  auto client = prism.client();
  auto settings = adyen_contract_settings();

  SECTION("the mock rejects what the spec does not allow") {
    auto bad = adyen_request(adyen_call("charge"), settings);
    bad.body = R"({"merchantAccount":"KassaContract","reference":"ord_c1",)"
               R"("returnUrl":"https://shop.example/r",)"
               R"("paymentMethod":{"type":"scheme"}})"; // no amount
    auto out = exchange(*client, bad);
    CHECK(out.status == 422);
    CHECK_FALSE(out.header("sl-violations").empty());
    // And a request without the API key is unauthorized.
    auto anonymous = adyen_request(adyen_call("charge"), settings);
    anonymous.headers.clear();
    CHECK(exchange(*client, anonymous).status == 401);
  }
  SECTION("payment, authorization, capture, cancel, reversal and refund") {
    for (auto op :
         {"charge", "authorize", "capture", "void", "reverse", "refund"}) {
      INFO(op);
      auto call = adyen_call(op);
      auto request = adyen_request(call, settings);
      REQUIRE_FALSE(request.target.empty());
      auto out = exchange(*client, request);
      check_valid(out);
      auto r = adyen_result(call, out);
      CHECK(r.message_id == call.message_id);
      if (std::string{op} == "charge" || std::string{op} == "authorize") {
        // The spec's first example asks for the shopper's 3-D Secure
        // fingerprint.
        CHECK(r.outcome == provider_outcome::action_required);
      } else {
        CHECK(r.outcome == provider_outcome::ok);
        if (std::string{op} == "reverse")
          CHECK_FALSE(r.ref.empty()); // the reversal example's own
        else
          CHECK(r.ref == "993617894906488A"); // the example modification's
      }
    }
  }
  SECTION("the shopper's 3-D Secure result through /payments/details") {
    auto call = adyen_call("charge");
    call.detail = R"(3ds_confirmed:{"redirectResult":"X6XtfGC3!Y..."})";
    auto request = adyen_request(call, settings);
    REQUIRE(request.target == "/payments/details");
    auto out = exchange(*client, request);
    check_valid(out);
    auto r = adyen_result(call, out);
    CHECK(r.message_id == call.message_id);
    CHECK(r.outcome != provider_outcome::unknown); // a readable answer
  }
  SECTION("the whole operation through the adapter actor") {
    caf::actor_system_config cfg;
    register_kassa_types(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto adapter = spawn_adyen_adapter(
      caf::actor_cast<caf::local_actor*>(self.ptr()), client, settings);
    auto call = adyen_call("capture");
    call.reply_to = caf::actor_cast<provider_result_sink>(self);
    self->send(adapter, atom::call::value, call);
    self->receive(
      [&](const provider_result& r) {
        CHECK(r.message_id == call.message_id);
        CHECK(r.outcome == provider_outcome::ok);
      },
      caf::after(30s) >>
        [] {
          FAIL("no answer from the adapter");
        });
    self->send_exit(adapter, caf::exit_reason::user_shutdown);
  }
  SECTION("400 401 403 and 422 are permanent and 500 an unknown outcome") {
    auto call = adyen_call("charge");
    auto invalid = prism.client({{"Prefer", "code=422"}});
    auto out = exchange(*invalid, adyen_request(call, settings));
    CHECK(out.status == 422);
    auto r = adyen_result(call, out);
    CHECK(r.outcome == provider_outcome::permanent);
    CHECK(r.error.find("adyen 422") == 0);
    auto broken = prism.client({{"Prefer", "code=500"}});
    out = exchange(*broken, adyen_request(call, settings));
    CHECK(out.status == 500);
    CHECK(adyen_result(call, out).outcome == provider_outcome::unknown);
    // The spec's other refusals are permanent too (it defines no 429 for
    // these paths: classify_adyen's unit test covers 429 and 502-504).
    for (auto code : {400, 401, 403}) {
      INFO(code);
      auto refusing
        = prism.client({{"Prefer", "code=" + std::to_string(code)}});
      auto capture = adyen_call("capture");
      out = exchange(*refusing, adyen_request(capture, settings));
      CHECK(out.status == code);
      CHECK(adyen_result(capture, out).outcome == provider_outcome::permanent);
    }
  }
}

TEST_CASE("an order runs through the Adyen adapter of a real node against "
          "the mock",
          "[contract][orders]") {
  static prism_server adyen{"adyen-checkout-v71.openapi.json"};
  shop s{{"KASSA_ADYEN_API_KEY=adyen-contract-key",
          "KASSA_ADYEN_MERCHANT_ACCOUNT=KassaContract",
          "KASSA_ADYEN_BASE_URL=http://127.0.0.1:" + std::to_string(adyen.port),
          "KASSA_PROVIDERS_CALL_TIMEOUT_MS=20000"}};
  auto listed = s.get("/v1/providers");
  INFO(listed.dump());
  std::set<std::string> names;
  for (auto& p : listed["providers"])
    names.insert(p["name"].get<std::string>() + "/"
                 + p["adapter"].get<std::string>());
  CHECK(names.count("adyen/adyen") == 1);
  s.add_product("adyen-pen", 10);
  auto order = shop::order("adyen-pen", "8415718415172200");
  order["payment"]["provider"] = "adyen";
  auto r = s.post("/v1/orders", order);
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  // The mock's example answer asks for the shopper's 3-D Secure step: the
  // order waits (a request the spec refused would have cancelled it).
  auto o = s.wait_for(
    id,
    [](const json& o) {
      return o["status"] != "pending" && o["status"] != "running";
    },
    60s);
  INFO(o.dump());
  CHECK(o["status"] == "waiting");
  CHECK(o["steps"][2]["error"].get<std::string>().find("IdentifyShopper")
        != std::string::npos);
}
