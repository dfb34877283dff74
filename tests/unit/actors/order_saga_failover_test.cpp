// The saga actor moving a charge between processors: an outage answer
// moves it (journaled before the second processor is called); a call that
// timed out keeps it where it may have been taken.

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga.hpp"
#include "fakes/saga_fixture.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

struct fixture : saga_fixture {
  fixture()
    : saga_fixture(R"({"items":[{"sku":"mug","quantity":1}],
      "total_minor":2500,"currency":"EUR","customer":{"id":"c1"},
      "payment":{"provider":"adyen","processors":["adyen","sandbox"],
                 "token":"card"},"shipping":{}})") {}

  /// Starts the saga and answers its calls until the charge is sent.
  recorded_call at_charge() {
    start_saga("ord_f");
    for (int i = 0; i < 2; ++i) // reserve, invoice
      reply(world->calls.back().call, provider_outcome::ok, "r");
    REQUIRE(world->calls.back().call.op == "charge");
    return world->calls.back();
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "an open circuit at the first processor moves the charge to "
                 "the second under its own key",
                 "[order_saga][payment_failover]") {
  auto first = at_charge();
  CHECK(first.target == "adyen");
  CHECK(first.call.idempotency_key == "ord_f:charge_payment");
  reply(first.call, provider_outcome::unavailable);
  auto second = world->calls.back();
  CHECK(second.target == "sandbox-payment");
  CHECK(second.call.idempotency_key == "ord_f:charge_payment:sandbox");
  CHECK(second.call.message_id == "ord_f:charge_payment:1:sandbox");
  // Journaled before the call: the move, then the new attempt's start.
  auto n = world->journal.size();
  REQUIRE(n >= 2);
  CHECK(world->journal[n - 2].type == "payment.rerouted");
  CHECK(nlohmann::json::parse(world->journal[n - 2].data)["ref"] == "sandbox");
  CHECK(world->journal[n - 1].type == "step.started");
  // A late answer of the first processor matches nothing.
  auto calls = world->calls.size();
  reply(first.call, provider_outcome::ok, "PSP-late");
  CHECK(world->calls.size() == calls);
  reply(second.call, provider_outcome::ok, "pay-1");
  CHECK(world->calls.back().call.op == "shipment");
}

TEST_CASE_METHOD(fixture,
                 "a charge that timed out stays with its processor, even when "
                 "it is out afterwards",
                 "[order_saga][payment_failover]") {
  auto first = at_charge();
  advance(5s); // no answer: perhaps taken
  CHECK(world->journal.back().type == "step.failed");
  CHECK(nlohmann::json::parse(world->journal.back().data)["maybe_exists"]
        == true);
  advance(50ms); // the retry
  auto retry = world->calls.back();
  CHECK(retry.target == "adyen");
  CHECK(retry.call.idempotency_key == first.call.idempotency_key);
  // Now its circuit is open: the saga parks, it does not move on.
  reply(retry.call, provider_outcome::unavailable);
  CHECK(world->journal.back().type == "step.parked");
  for (auto& e : world->journal)
    CHECK(e.type != "payment.rerouted");
}
