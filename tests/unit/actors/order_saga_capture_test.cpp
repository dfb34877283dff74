// The saga actor taking captures of an authorization: each journaled with
// its step's start, a capture that is not final refused for Stripe before
// anything is journaled, the same key answered with the same capture.

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga.hpp"
#include "actors/type_ids.hpp"
#include "fakes/saga_fixture.hpp"

using namespace kassa;
using namespace kassa::test;
using json = nlohmann::json;

namespace {

struct fixture : saga_fixture {
  explicit fixture(const std::string& processor)
    : saga_fixture(R"({"items":[{"sku":"mug","quantity":1}],
      "total_minor":2500,"currency":"EUR","customer":{"id":"c1"},
      "payment":{"provider":")"
                   + processor + R"(","token":"card"},"capture":"manual",
      "shipping":{}})") {}

  /// Starts the saga and answers its calls until it awaits the capture.
  void authorized() {
    start_saga("ord_c");
    for (int i = 0; i < 3; ++i) // reserve, invoice, authorize
      reply(world->calls.back().call, provider_outcome::ok,
            "r" + std::to_string(i));
    REQUIRE(world->journal.back().status == "awaiting_capture");
  }

  /// Sends the saga a capture and returns its answer.
  kassa::reply capture(int64_t amount, const std::string& key, bool final) {
    auto answer = std::make_shared<std::optional<kassa::reply>>();
    caf::anon_send(saga, atom::capture::value, amount, key, final,
                   reply_to_function([answer](kassa::reply r) {
                     *answer = std::move(r);
                   }));
    sched->run();
    REQUIRE(answer->has_value());
    return **answer;
  }
};

struct stripe_order : fixture {
  stripe_order() : fixture("stripe") {}
};

struct sandbox_order : fixture {
  sandbox_order() : fixture("sandbox") {}
};

} // namespace

TEST_CASE_METHOD(stripe_order,
                 "a capture that is not final is refused for stripe and "
                 "nothing is journaled",
                 "[order_saga][capture]") {
  authorized();
  auto rows = world->journal.size();
  auto calls = world->calls.size();
  auto r = capture(1000, "k1", false);
  REQUIRE(r.failed());
  CHECK(r.error.field == "final");
  CHECK(world->journal.size() == rows);
  CHECK(world->calls.size() == calls);
  // The whole amount is one capture: not refused.
  r = capture(2500, "k2", false);
  CHECK_FALSE(r.failed());
  CHECK(json::parse(r.body)["final"] == true);
  CHECK(world->calls.back().call.op == "capture");
  CHECK(world->calls.back().call.detail.empty());
}

TEST_CASE_METHOD(sandbox_order,
                 "each capture is journaled with its step's start and the "
                 "same key answers the same capture",
                 "[order_saga][capture]") {
  authorized();
  auto r = capture(1000, "k1", false);
  REQUIRE_FALSE(r.failed());
  auto n = world->journal.size();
  REQUIRE(n >= 2);
  CHECK(world->journal[n - 2].type == "payment.capture_requested");
  auto row = json::parse(world->journal[n - 2].data);
  CHECK(row["final"] == false);
  CHECK(row["idempotency_key"] == "k1");
  CHECK(row["amount_minor"] == 1000);
  CHECK(world->journal[n - 1].type == "step.started");
  auto call = world->calls.back().call;
  CHECK(call.detail == "partial");
  // Asked again while it runs: the same capture, nothing new sent.
  auto calls = world->calls.size();
  auto again = capture(1000, "k1", false);
  REQUIRE_FALSE(again.failed());
  CHECK(json::parse(again.body)["capture"] == 1);
  CHECK(world->calls.size() == calls);
  CHECK(capture(900, "k1", false).error.code
        == failure_code::idempotency_key_reused);
  // Another while one runs is refused (one at a time).
  CHECK(capture(100, "k2", false).error.code
        == failure_code::not_awaiting_capture);
  reply(call, provider_outcome::ok, "cp_1");
  CHECK(world->journal.back().status == "awaiting_capture");
  auto second = capture(0, "", true);
  REQUIRE_FALSE(second.failed());
  CHECK(json::parse(second.body)["amount_minor"] == 1500);
  CHECK(world->calls.back().call.idempotency_key == "ord_c:capture_payment:2");
  CHECK(world->calls.back().call.amount_minor == 1500);
}
