#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga.hpp"
#include "fakes/saga_fixture.hpp"
#include "runtime/errc.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

journal_entry entry(int seq, std::string type, std::string step = {},
                    uint32_t attempt = 0, std::string data = "{}") {
  journal_entry e;
  e.stream = "ord_t";
  e.seq = seq;
  e.type = std::move(type);
  e.step = std::move(step);
  e.attempt = attempt;
  e.data = std::move(data);
  return e;
}

struct fixture : saga_fixture {
  fixture()
    : saga_fixture(R"({"items":[{"sku":"mug","quantity":2}],
      "total_minor":3000,"currency":"HUF","customer":{"id":"c1"},
      "payment":{"token":"tok_ok"},"shipping":{}})") {
    store->events = {entry(1, "order.created")};
  }

  void start() {
    start_saga("ord_t");
  }

  const journal_entry& last() const {
    return world->journal.back();
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "the saga journals before it calls and ignores "
                 "stale and duplicate replies",
                 "[order_saga]") {
  start();
  REQUIRE(world->journal.size() == 1);
  CHECK(last().type == "step.started");
  CHECK(last().step == "reserve_stock");
  CHECK(last().seq == 2);
  CHECK(last().status == "running");
  REQUIRE(world->calls.size() == 1);
  auto reserve = world->calls[0].call;
  CHECK(world->calls[0].target.rfind("inventory-", 0) == 0);
  CHECK(reserve.op == "reserve");
  CHECK(reserve.message_id == "ord_t:reserve_stock:1");
  CHECK(reserve.lines.size() == 1);
  // A reply to some other request changes nothing.
  auto stale = reserve;
  stale.message_id = "ord_t:reserve_stock:0";
  reply(stale, provider_outcome::ok, "x");
  CHECK(world->journal.size() == 1);
  CHECK(world->calls.size() == 1);
  // The real reply: journaled, then the next step starts.
  reply(reserve, provider_outcome::ok, "res-1");
  REQUIRE(world->journal.size() == 3);
  CHECK(world->journal[1].type == "step.succeeded");
  CHECK(world->journal[1].data.find("res-1") != std::string::npos);
  CHECK(world->journal[2].step == "create_invoice");
  REQUIRE(world->calls.size() == 2);
  CHECK(world->calls[1].call.op == "invoice");
  // The same reply delivered twice is ignored.
  reply(reserve, provider_outcome::ok, "res-1");
  CHECK(world->journal.size() == 3);
  CHECK(world->calls.size() == 2);
}

TEST_CASE_METHOD(fixture,
                 "a saga with an empty journal opens it with order.created "
                 "in its first append",
                 "[order_saga]") {
  // As after the intake (which writes only the `sagas` row), or a crash
  // before the first append committed.
  store->events.clear();
  start();
  REQUIRE(world->journal.size() == 2);
  auto& created = world->journal[0];
  CHECK(created.seq == 1);
  CHECK(created.type == "order.created");
  CHECK(created.status.empty()); // pending already: no status write
  CHECK(created.step.empty());
  auto data = nlohmann::json::parse(created.data);
  CHECK(data["order_id"] == "ord_t");
  CHECK(data["status"] == "pending");
  CHECK(data["total_minor"] == 3000);
  CHECK(data["currency"] == "HUF");
  CHECK(world->journal[1].seq == 2);
  CHECK(world->journal[1].type == "step.started");
  // The subscribers' data: the order, its status, the step and attempt.
  auto started = nlohmann::json::parse(world->journal[1].data);
  CHECK(started["status"] == "running");
  CHECK(started["step"] == "reserve_stock");
  CHECK(started["attempt"] == 1);
  REQUIRE(world->calls.size() == 1);
  // Once it is written, later appends do not open the journal again.
  reply(world->calls[0].call, provider_outcome::ok, "res-1");
  REQUIRE(world->journal.size() == 4);
  CHECK(world->journal[2].seq == 3);
  CHECK(world->journal[2].type == "step.succeeded");
  CHECK(world->journal[2].status.empty()); // still running
  CHECK(nlohmann::json::parse(world->journal[2].data)["status"] == "running");
}

TEST_CASE_METHOD(fixture,
                 "a call without an answer is retried with the same "
                 "idempotency key, invoices are looked up first",
                 "[order_saga]") {
  start();
  reply(world->calls[0].call, provider_outcome::ok, "res");
  auto invoice = world->calls.back().call;
  REQUIRE(invoice.op == "invoice");
  advance(5s); // the call timeout
  CHECK(world->journal.back().type == "step.failed");
  CHECK(world->journal.back().data.find("timeout") != std::string::npos);
  advance(50ms); // the first retry delay
  auto lookup = world->calls.back().call;
  CHECK(lookup.op == "find_invoice");
  CHECK(lookup.idempotency_key == invoice.idempotency_key);
  CHECK(world->journal.back().type == "step.started");
  CHECK(world->journal.back().attempt == 2);
  // The late answer to the first attempt arrives now: ignored.
  auto journaled = world->journal.size();
  reply(invoice, provider_outcome::ok, "inv-late");
  CHECK(world->journal.size() == journaled);
  // Not found: the invoice is issued.
  reply(lookup, provider_outcome::ok, "");
  CHECK(world->calls.back().call.op == "invoice");
  reply(world->calls.back().call, provider_outcome::ok, "inv-1");
  CHECK(world->journal.back().step == "charge_payment");
}

TEST_CASE_METHOD(fixture, "a resumed saga re-runs the step in flight",
                 "[order_saga]") {
  store->events
    = {entry(1, "order.created"), entry(2, "step.started", "reserve_stock", 1),
       entry(3, "step.succeeded", "reserve_stock", 1, R"({"ref":"r"})"),
       entry(4, "step.started", "create_invoice", 1)};
  start();
  REQUIRE(world->journal.size() == 1);
  CHECK(last().seq == 5);
  CHECK(last().step == "create_invoice");
  CHECK(last().attempt == 2);
  REQUIRE(world->calls.size() == 1);
  CHECK(world->calls[0].call.op == "find_invoice");
  // Found: the invoice issued before the crash is used, not a second one.
  reply(world->calls[0].call, provider_outcome::ok, "inv-before-crash");
  CHECK(world->journal[1].type == "step.succeeded");
  CHECK(world->journal[1].data.find("inv-before-crash") != std::string::npos);
  CHECK(world->calls.back().call.op == "charge");
  CHECK(world->calls.back().call.idempotency_key == "ord_t:charge_payment");
}

TEST_CASE_METHOD(fixture,
                 "a declined payment compensates in reverse and the "
                 "saga ends cancelled",
                 "[order_saga]") {
  start();
  reply(world->calls.back().call, provider_outcome::ok, "res");
  reply(world->calls.back().call, provider_outcome::ok, "inv");
  reply(world->calls.back().call, provider_outcome::permanent);
  REQUIRE(world->calls.back().call.op == "storno");
  CHECK(world->calls.back().call.ref == "inv");
  reply(world->calls.back().call, provider_outcome::ok, "inv");
  REQUIRE(world->calls.back().call.op == "release");
  reply(world->calls.back().call, provider_outcome::ok, "res");
  CHECK(last().type == "order.cancelled");
  CHECK(last().status == "cancelled");
}

TEST_CASE_METHOD(fixture,
                 "an open circuit parks the step as a durable job, the job "
                 "resumes it",
                 "[order_saga]") {
  start();
  reply(world->calls.back().call, provider_outcome::ok, "res");
  reply(world->calls.back().call, provider_outcome::ok, "inv");
  auto charge = world->calls.back().call;
  REQUIRE(charge.op == "charge");
  caf::anon_send(charge.reply_to,
                 provider_result{charge.message_id,
                                 provider_outcome::unavailable,
                                 {},
                                 "circuit_open: sandbox-payment",
                                 1500});
  sched->run();
  CHECK(last().type == "step.parked");
  CHECK(last().status == "waiting");
  REQUIRE(world->jobs.size() == 1);
  CHECK(world->jobs[0].kind == "resume_saga");
  CHECK(world->jobs[0].key == "resume_saga:ord_t:charge_payment:1");
  CHECK(world->jobs[0].delay_ms == 1500);
  CHECK_FALSE(world->jobs[0].revive);
  // Parked: no retry timer runs it again by itself.
  auto calls = world->calls.size();
  advance(60s);
  CHECK(world->calls.size() == calls);
  // The job wakes it: the same step again, journaled first.
  caf::anon_send(caf::actor_cast<caf::actor>(charge.reply_to),
                 atom::resume::value);
  sched->run();
  CHECK(last().type == "step.started");
  CHECK(last().step == "charge_payment");
  CHECK(last().attempt == 2);
  REQUIRE(world->calls.size() == calls + 1);
  CHECK(world->calls.back().call.op == "charge");
  CHECK(world->calls.back().call.idempotency_key == "ord_t:charge_payment");
  // A second wake for the same park changes nothing.
  caf::anon_send(caf::actor_cast<caf::actor>(charge.reply_to),
                 atom::resume::value);
  sched->run();
  CHECK(world->calls.size() == calls + 1);
}

TEST_CASE_METHOD(fixture,
                 "a saga loaded while parked makes sure its job exists and "
                 "waits",
                 "[order_saga]") {
  store->events
    = {entry(1, "order.created"), entry(2, "step.started", "reserve_stock", 1),
       entry(3, "step.succeeded", "reserve_stock", 1, R"({"ref":"r"})"),
       entry(4, "step.started", "create_invoice", 1),
       entry(5, "step.parked", "create_invoice", 1,
             R"({"error":"circuit_open"})")};
  start();
  CHECK(world->calls.empty());
  CHECK(world->journal.empty());
  REQUIRE(world->jobs.size() == 1);
  CHECK(world->jobs[0].key == "resume_saga:ord_t:create_invoice:1");
  CHECK(world->jobs[0].revive);
}

TEST_CASE_METHOD(fixture,
                 "one call timer serves successive calls: each times out "
                 "call_timeout after it was sent",
                 "[order_saga]") {
  start();
  advance(3s);
  // Answered 3 s in: the invoice call is sent at 3 s, the timer armed for
  // the first call fires at 5 s and must wait for 8 s.
  reply(world->calls[0].call, provider_outcome::ok, "res");
  REQUIRE(world->calls.size() == 2);
  auto journaled = world->journal.size();
  advance(2s);
  CHECK(world->journal.size() == journaled); // 5 s: the invoice is not late
  advance(2900ms);
  CHECK(world->journal.size() == journaled); // 7.9 s: still not
  advance(100ms);
  REQUIRE(world->journal.size() > journaled); // 8 s: it is
  CHECK(world->journal[journaled].type == "step.failed");
  CHECK(world->journal[journaled].step == "create_invoice");
  CHECK(world->journal[journaled].data.find("timeout") != std::string::npos);
}

TEST_CASE_METHOD(fixture,
                 "a saga whose journal append goes unanswered gives up after "
                 "the journal timeout and exits to be restarted",
                 "[order_saga]") {
  world->journal_silent = true;
  start();
  // Whether the saga still runs: a request it has no handler for is
  // answered `unexpected_message` while it lives, `request_receiver_down`
  // once it is gone.
  auto probe = [this] {
    auto got = std::make_shared<caf::error>();
    sys->spawn(
      [this, got](caf::event_based_actor* self, int) -> caf::behavior {
        self->request(saga, caf::infinite, 42.0)
          .then([] {},
                [got](caf::error& err) {
                  *got = std::move(err);
                });
        return {[](int) {}};
      },
      0);
    sched->run();
    return *got;
  };
  REQUIRE(world->journal.size() == 1); // step.started
  CHECK(world->calls.empty());         // nothing sent before it is durable
  advance(29s);
  CHECK(probe() == caf::sec::unexpected_message);
  advance(1s);
  CHECK(probe() == caf::sec::request_receiver_down);
  CHECK(world->calls.empty());
}

TEST_CASE_METHOD(fixture,
                 "a saga resumed after a 3-D Secure confirm charges as "
                 "confirmed, a `confirmed` member elsewhere in its journal "
                 "does not count",
                 "[order_saga]") {
  auto before_charge = std::vector<journal_entry>{
    entry(1, "order.created"), entry(2, "step.started", "reserve_stock", 1),
    entry(3, "step.succeeded", "reserve_stock", 1, R"({"ref":"r"})"),
    entry(4, "step.started", "create_invoice", 1),
    // A provider's answer echoed into the journal, with a nested member of
    // the same name: not the confirm.
    entry(5, "step.succeeded", "create_invoice", 1,
          R"({"answer":{"confirmed":true},"ref":"inv"})"),
    entry(6, "step.started", "charge_payment", 1)};
  SECTION("confirmed") {
    store->events = before_charge;
    store->events.push_back(entry(7, "order.waiting", "charge_payment", 1));
    store->events.push_back(
      entry(8, "step.started", "charge_payment", 2, R"({"confirmed":true})"));
    start();
    REQUIRE(!world->calls.empty());
    CHECK(world->calls.back().call.op == "charge");
    CHECK(world->calls.back().call.detail == "3ds_confirmed");
  }
  SECTION("not confirmed") {
    store->events = before_charge;
    start();
    REQUIRE(!world->calls.empty());
    CHECK(world->calls.back().call.op == "charge");
    CHECK(world->calls.back().call.detail != "3ds_confirmed");
  }
}
