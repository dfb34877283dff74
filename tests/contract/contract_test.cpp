// Contract tests: the Stripe and Billingo adapters' real requests go to a
// Prism mock of each provider's official OpenAPI spec (specs/, see
// SOURCES.md), which validates every request; a request Prism rejects comes
// back 422 with an `sl-violations` header. `Prefer: code=` makes Prism answer
// with the spec's 429/5xx responses, which exercises the error mapping.
// scripts/test installs Prism locally (tests/contract/node_modules) and sets
// PRISM_BIN.

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <future>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/billingo.hpp"
#include "adapters/providers/stripe.hpp"
#include "node/system.hpp"
#include "prism.hpp"
#include "support/node_process.hpp"
#include "support/shop.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

const std::string secret = "sk_test_contract";

} // namespace

TEST_CASE("the Stripe adapter's requests satisfy Stripe's spec",
          "[contract][stripe]") {
  static prism_server prism{"stripe-payments.prism.openapi.json"};
  auto client = prism.client();

  SECTION("the mock rejects what the spec does not allow") {
    auto bad = stripe_request(order_call("charge"), secret);
    bad.body = "currency=huf"; // no amount
    auto out = exchange(*client, bad);
    CHECK(out.status == 422);
    CHECK_FALSE(out.header("sl-violations").empty());
  }
  SECTION("create-and-confirm, authorize, capture, cancel, refund, retrieve") {
    for (auto op : {"charge", "authorize", "capture", "void", "refund"}) {
      INFO(op);
      auto call = order_call(op);
      auto request = stripe_request(call, secret);
      REQUIRE_FALSE(request.target.empty());
      auto out = exchange(*client, request);
      check_valid(out);
      auto r = stripe_result(call, out);
      CHECK(r.message_id == call.message_id);
      CHECK_FALSE(r.ref.empty());
    }
    check_valid(exchange(*client, stripe_retrieve("pi_3Nk", secret)));
  }
  SECTION("the whole 3-D Secure confirmation runs both requests") {
    auto call = order_call("charge");
    call.detail = "3ds_confirmed";
    auto r = perform(
      [&](provider_call c) {
        stripe_perform(client, secret, std::move(c));
      },
      call);
    CHECK(r.message_id == call.message_id);
    // The mock's example intent is `canceled`: a readable, final answer.
    CHECK(r.outcome == provider_outcome::permanent);
    CHECK_FALSE(r.ref.empty());
  }
  SECTION("429 is transient, 5xx an unknown outcome") {
    auto limited = prism.client({{"Prefer", "code=429"}});
    auto call = order_call("refund");
    auto out = exchange(*limited, stripe_request(call, secret));
    CHECK(out.status == 429);
    CHECK(stripe_result(call, out).outcome == provider_outcome::transient);
    auto broken = prism.client({{"Prefer", "code=500"}});
    out = exchange(*broken, stripe_request(call, secret));
    CHECK(out.status == 500);
    CHECK(stripe_result(call, out).outcome == provider_outcome::unknown);
  }
}

TEST_CASE("the Billingo adapter's requests satisfy Billingo's spec",
          "[contract][billingo]") {
  static prism_server prism{"billingo-v3.openapi.yaml"};
  auto client = prism.client();
  billingo_settings s;
  s.api_key = "billingo-contract-key";
  s.block_id = 42;

  SECTION("the mock rejects what the spec does not allow") {
    auto bad = billingo_create_invoice(s, order_call("invoice"), 7);
    bad.body = R"({"partner_id":7})"; // required fields missing
    auto out = exchange(*client, bad);
    CHECK(out.status == 422);
    CHECK_FALSE(out.header("sl-violations").empty());
  }
  SECTION("partner lookup and creation, invoice, lookup by order, storno") {
    auto call = order_call("invoice");
    check_valid(exchange(*client, billingo_find_partner(s, call)));
    check_valid(exchange(*client, billingo_create_partner(s, call)));
    check_valid(exchange(*client, billingo_create_invoice(s, call, 7)));
    check_valid(exchange(*client, billingo_find_invoice(s, call)));
    auto storno = order_call("storno");
    storno.ref = "12";
    check_valid(exchange(*client, billingo_cancel(s, storno)));
  }
  SECTION("a refund's credit note and its lookup") {
    auto note = order_call("credit_note");
    note.ref = "12";           // the order's invoice
    note.detail = "rf_1a2b3c"; // the refund
    note.amount_minor = 1250;
    auto create = billingo_create_credit_note(s, note);
    CHECK(create.target == "/documents/12/create-modification-document");
    check_valid(exchange(*client, create));
    check_valid(exchange(*client, billingo_find_credit_note(s, note)));
    auto r = perform(
      [&](provider_call c) {
        billingo_perform(client, s, std::move(c));
      },
      note);
    INFO(r.error);
    CHECK(r.outcome == provider_outcome::ok);
    CHECK_FALSE(r.ref.empty());
  }
  SECTION("the whole invoice operation answers with the document id") {
    auto r = perform(
      [&](provider_call c) {
        billingo_perform(client, s, std::move(c));
      },
      order_call("invoice"));
    INFO(r.error);
    CHECK(r.outcome == provider_outcome::ok);
    CHECK_FALSE(r.ref.empty());
  }
  SECTION("429 and 5xx: transient, except a 5xx on a create (unknown)") {
    auto call = order_call("invoice");
    auto limited = prism.client({{"Prefer", "code=429"}});
    auto out = exchange(*limited, billingo_find_invoice(s, call));
    CHECK(out.status == 429);
    CHECK(billingo_failure(call, out, false).outcome
          == provider_outcome::transient);
    auto broken = prism.client({{"Prefer", "code=500"}});
    out = exchange(*broken, billingo_create_invoice(s, call, 7));
    CHECK(out.status == 500);
    CHECK(billingo_failure(call, out, true).outcome
          == provider_outcome::unknown);
    out = exchange(*broken, billingo_find_invoice(s, call));
    CHECK(billingo_failure(call, out, false).outcome
          == provider_outcome::transient);
    auto invalid = prism.client({{"Prefer", "code=422"}});
    out = exchange(*invalid, billingo_create_invoice(s, call, 7));
    CHECK(out.status == 422);
    auto r = billingo_failure(call, out, true);
    CHECK(r.outcome == provider_outcome::permanent);
    CHECK(r.error.rfind("billingo 422", 0) == 0);
  }
}

TEST_CASE("orders run through the Billingo and Stripe adapters of a real node "
          "against the mocks",
          "[contract][orders]") {
  static prism_server billingo{"billingo-v3.openapi.yaml"};
  static prism_server stripe{"stripe-payments.prism.openapi.json"};
  shop s{
    {"KASSA_BILLINGO_API_KEY=billingo-contract-key",
     "KASSA_BILLINGO_BASE_URL=http://127.0.0.1:"
       + std::to_string(billingo.port),
     "KASSA_BILLINGO_BLOCK_ID=42", "KASSA_ORDERS_INVOICING_PROVIDER=billingo",
     "KASSA_STRIPE_SECRET_KEY=sk_test_contract",
     "KASSA_STRIPE_BASE_URL=http://127.0.0.1:" + std::to_string(stripe.port),
     "KASSA_PROVIDERS_CALL_TIMEOUT_MS=20000"}};
  auto names = std::set<std::string>{};
  auto providers = s.get("/v1/providers");
  for (auto& p : providers["providers"])
    names.insert(p["name"].get<std::string>() + "/"
                 + p["adapter"].get<std::string>());
  CHECK(names.count("stripe/stripe") == 1);
  CHECK(names.count("billingo/billingo") == 1);
  s.add_product("pen", 10);

  // Invoiced by Billingo, paid in the sandbox: completed.
  auto r = s.post("/v1/orders", shop::order("pen", "tok_ok"));
  REQUIRE(r.status == 202);
  auto paid = json::parse(r.body)["id"].get<std::string>();
  auto o = s.wait_for(
    paid,
    [](const json& o) {
      return o["status"] == "completed";
    },
    60s);
  INFO(o.dump());
  CHECK(o["status"] == "completed");
  CHECK(o["invoice"]["provider"] == "billingo");
  CHECK(o["invoice"]["id"] == "0"); // the mock's example document

  // Paid through Stripe: the mock's example intent is `canceled`, a
  // decline, so the Billingo invoice is cancelled (storno) and stock freed.
  auto order = shop::order("pen", "pm_card_visa");
  order["payment"]["provider"] = "stripe";
  r = s.post("/v1/orders", order);
  REQUIRE(r.status == 202);
  auto declined = json::parse(r.body)["id"].get<std::string>();
  o = s.wait_for(
    declined,
    [](const json& o) {
      return o["status"] == "cancelled";
    },
    60s);
  INFO(o.dump());
  CHECK(o["status"] == "cancelled");
  CHECK(o["steps"][1]["status"] == "compensated"); // the invoice
  CHECK(o["steps"][2]["status"] == "failed");      // the payment
  CHECK(o["steps"][2]["error"].get<std::string>().find("card_declined")
        != std::string::npos);
  CHECK(s.get("/v1/products/pen")["reserved"] == 0);
}
