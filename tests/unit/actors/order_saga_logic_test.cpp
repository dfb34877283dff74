#include <catch2/catch.hpp>

#include "actors/order_saga_logic.hpp"
#include "saga_driver.hpp"

using namespace kassa;
using namespace std::chrono_literals;

using namespace kassa::test;

namespace {

std::vector<std::string> forward_until(saga_step failing) {
  std::vector<std::string> out;
  for (auto& def : saga_steps()) {
    if (def.step == saga_step::capture_payment)
      continue; // not a step of an order captured at once
    out.push_back("do:" + std::string{def.name});
    if (def.step == failing)
      break;
  }
  return out;
}

} // namespace

TEST_CASE("the happy path runs every step once and completes", "[saga]") {
  driver d;
  d.run([](saga_step, bool, uint32_t) {
    return 'o';
  });
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.trace.size() == saga_step_count - 1); // no capture_payment
  for (auto& def : saga_steps()) {
    if (!d.state.has_step(def.step))
      continue;
    CHECK(d.state.step(def.step).status == step_status::done);
    CHECK(d.state.step(def.step).attempts == 1);
  }
  CHECK(d.state.step(saga_step::capture_payment).status
        == step_status::pending);
}

TEST_CASE("a permanent failure at each step compensates what was done, in "
          "reverse",
          "[saga]") {
  for (auto& failing : saga_steps()) {
    if (!failing.failure_cancels || failing.step == saga_step::capture_payment)
      continue;
    INFO("failing step: " << failing.name);
    driver d;
    d.run([&](saga_step s, bool comp, uint32_t) {
      return !comp && s == failing.step ? 'p' : 'o';
    });
    CHECK(d.state.status() == saga_status::cancelled);
    auto expected = forward_until(failing.step);
    // Undo every earlier step that has a compensation, newest first.
    for (size_t i = static_cast<size_t>(failing.step); i-- > 0;) {
      auto& def = saga_steps()[i];
      if (!def.compensation.empty() && def.step != saga_step::capture_payment)
        expected.push_back("undo:" + std::string{def.name});
    }
    CHECK(d.trace == expected);
    CHECK(d.state.step(failing.step).status == step_status::failed);
    for (size_t i = static_cast<size_t>(failing.step) + 1; i < saga_step_count;
         ++i)
      CHECK(d.state.step(saga_steps()[i].step).status == step_status::pending);
  }
}

TEST_CASE("a failed notification does not cancel the order", "[saga]") {
  driver d;
  d.run([](saga_step s, bool, uint32_t) {
    return s == saga_step::notify_customer ? 'p' : 'o';
  });
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.step(saga_step::notify_customer).status
        == step_status::skipped);
}

TEST_CASE("transient failures are retried with growing delays", "[saga]") {
  saga_retry_policy policy{5, 8, 50ms, 2000ms};
  driver d{policy};
  d.run([](saga_step s, bool, uint32_t attempt) {
    return s == saga_step::charge_payment && attempt < 4 ? 't' : 'o';
  });
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.step(saga_step::charge_payment).attempts == 4);
  CHECK(d.delays == std::vector<std::chrono::milliseconds>{50ms, 100ms, 200ms});
}

TEST_CASE("transient failures past max_attempts compensate", "[saga]") {
  driver d{saga_retry_policy{3, 8, 10ms, 100ms}};
  d.run([](saga_step s, bool, uint32_t) {
    return s == saga_step::create_shipment ? 't' : 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.state.step(saga_step::create_shipment).attempts == 3);
  CHECK(d.state.step(saga_step::charge_payment).status
        == step_status::compensated);
}

TEST_CASE("a compensation that never succeeds ends failed", "[saga]") {
  driver d{saga_retry_policy{5, 4, 10ms, 100ms}};
  d.run([](saga_step s, bool comp, uint32_t) {
    if (!comp)
      return s == saga_step::create_shipment ? 'p' : 'o';
    return s == saga_step::charge_payment ? 't' : 'o';
  });
  CHECK(d.state.status() == saga_status::failed);
  CHECK(d.state.step(saga_step::charge_payment).comp_attempts == 4);
  // Nothing after the stuck compensation was skipped silently: the earlier
  // steps still wait for their undo and a person can see it.
  CHECK(d.state.step(saga_step::create_invoice).status == step_status::done);
}

TEST_CASE("replaying the journal gives the same state and decision", "[saga]") {
  for (size_t cut = 1; cut < 14; ++cut) {
    driver d;
    d.run([](saga_step s, bool, uint32_t) {
      return s == saga_step::create_shipment ? 'p' : 'o';
    });
    REQUIRE(d.journal.size() > cut);
    saga_state replayed;
    for (size_t i = 0; i < cut; ++i)
      replayed.apply(d.journal[i]);
    saga_state again;
    for (size_t i = 0; i < cut; ++i)
      again.apply(d.journal[i]);
    auto a = replayed.next();
    auto b = again.next();
    CHECK(a.kind == b.kind);
    CHECK(a.step == b.step);
    CHECK(a.attempt == b.attempt);
  }
}

TEST_CASE("a step started without a result runs again on resume", "[saga]") {
  saga_state s;
  s.apply(E(saga_event_type::created));
  s.apply(E(saga_event_type::step_started, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::step_succeeded, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::step_started, saga_step::create_invoice, 1));
  REQUIRE(s.in_flight());
  auto d = s.next();
  CHECK(d.kind == saga_decision::run_step);
  CHECK(d.step == saga_step::create_invoice);
  CHECK(d.attempt == 2); // > 1: the actor looks the invoice up first
  CHECK(d.delay.count() == 0);
  // Same for a compensation.
  s.apply(E(saga_event_type::step_failed, saga_step::create_invoice, 2, true));
  s.apply(
    E(saga_event_type::compensation_started, saga_step::reserve_stock, 1));
  auto c = s.next();
  CHECK(c.kind == saga_decision::run_compensation);
  CHECK(c.step == saga_step::reserve_stock);
  CHECK(c.attempt == 2);
}

TEST_CASE("cancel during the forward phase compensates after the step in "
          "flight",
          "[saga]") {
  driver d;
  bool cancelled = false;
  d.run([&](saga_step s, bool, uint32_t) {
    if (s == saga_step::charge_payment && !cancelled) {
      cancelled = true;
      d.record(E(saga_event_type::cancel_requested));
    }
    return 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.trace
        == std::vector<std::string>{
          "do:reserve_stock", "do:create_invoice", "do:charge_payment",
          "undo:charge_payment", "undo:create_invoice", "undo:reserve_stock"});
}

TEST_CASE("waiting for 3-D Secure is idle until confirmed or cancelled",
          "[saga]") {
  driver d;
  d.run([](saga_step s, bool, uint32_t) {
    return s == saga_step::charge_payment ? 'w' : 'o';
  });
  CHECK(d.state.status() == saga_status::waiting);
  CHECK(d.state.next().kind == saga_decision::idle);
  CHECK_FALSE(d.state.in_flight());
  d.record(E(saga_event_type::cancel_requested));
  d.run([](saga_step, bool, uint32_t) {
    return 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.state.step(saga_step::create_invoice).status
        == step_status::compensated);
}

TEST_CASE("names round-trip", "[saga]") {
  for (auto& def : saga_steps())
    CHECK(parse_saga_step(def.name) == def.step);
  for (int i = 0; i <= static_cast<int>(saga_event_type::failed); ++i) {
    auto t = static_cast<saga_event_type>(i);
    CHECK(parse_saga_event_type(to_string(t)) == t);
  }
  CHECK_FALSE(parse_saga_step("nope"));
}

TEST_CASE("a parked step waits, does not use up attempts, and resumes",
          "[saga_logic]") {
  saga_state s{saga_retry_policy{2, 2, 10ms, 10ms}};
  s.apply(E(saga_event_type::created));
  s.apply(E(saga_event_type::step_started, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::step_succeeded, saga_step::reserve_stock, 1));
  // Ten parks of create_invoice: far more than max_attempts (2).
  for (uint32_t a = 1; a <= 10; ++a) {
    s.apply(E(saga_event_type::step_started, saga_step::create_invoice, a));
    s.apply(E(saga_event_type::parked, saga_step::create_invoice, a));
    CHECK(s.status() == saga_status::waiting);
    CHECK(s.parked());
    CHECK(s.next().kind == saga_decision::idle);
    auto r = s.resume_parked();
    REQUIRE(r);
    CHECK(r->kind == saga_decision::run_step);
    CHECK(r->step == saga_step::create_invoice);
    CHECK(r->attempt == a + 1);
    CHECK(r->delay.count() == 0);
  }
  // A real transient failure after the parks still gets its retry.
  s.apply(E(saga_event_type::step_started, saga_step::create_invoice, 11));
  CHECK_FALSE(s.parked());
  CHECK(s.status() == saga_status::running);
  s.apply(E(saga_event_type::step_failed, saga_step::create_invoice, 11));
  CHECK(s.status() == saga_status::running);
  CHECK(s.next().kind == saga_decision::run_step);
}

TEST_CASE("a cancel while parked undoes what is done, a parked compensation "
          "resumes as a compensation",
          "[saga_logic]") {
  saga_state s;
  s.apply(E(saga_event_type::created));
  s.apply(E(saga_event_type::step_started, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::step_succeeded, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::step_started, saga_step::create_invoice, 1));
  s.apply(E(saga_event_type::parked, saga_step::create_invoice, 1));
  s.apply(E(saga_event_type::cancel_requested));
  CHECK_FALSE(s.parked());
  auto d = s.next();
  REQUIRE(d.kind == saga_decision::run_compensation);
  CHECK(d.step == saga_step::reserve_stock);
  s.apply(
    E(saga_event_type::compensation_started, saga_step::reserve_stock, 1));
  s.apply(E(saga_event_type::parked, saga_step::reserve_stock, 1));
  CHECK(s.parked());
  CHECK(s.parked_compensation());
  CHECK(s.status() == saga_status::waiting);
  CHECK(s.next().kind == saga_decision::idle);
  auto r = s.resume_parked();
  REQUIRE(r);
  CHECK(r->kind == saga_decision::run_compensation);
  CHECK(r->step == saga_step::reserve_stock);
  CHECK(r->attempt == 2);
}

TEST_CASE("a failed saga's compensations tried again get another budget and "
          "a resolution keeps it failed",
          "[saga][operator]") {
  saga_retry_policy policy;
  policy.max_comp_attempts = 2;
  saga_state s{policy};
  auto apply = [&](saga_event_type t, saga_step step = saga_step::reserve_stock,
                   uint32_t attempt = 0) {
    saga_event e;
    e.type = t;
    e.step = step;
    e.attempt = attempt;
    s.apply(e);
  };
  apply(saga_event_type::created);
  for (auto step : {saga_step::reserve_stock, saga_step::create_invoice}) {
    apply(saga_event_type::step_started, step, 1);
    apply(saga_event_type::step_succeeded, step, 1);
  }
  apply(saga_event_type::cancel_requested);
  for (uint32_t a = 1; a <= 2; ++a) {
    apply(saga_event_type::compensation_started, saga_step::create_invoice, a);
    apply(saga_event_type::compensation_failed, saga_step::create_invoice, a);
  }
  REQUIRE(s.next().kind == saga_decision::finish_failed);
  apply(saga_event_type::failed);
  CHECK(s.status() == saga_status::failed);
  // Retried: compensating again, the next attempt numbered on (its own key).
  apply(saga_event_type::compensation_retried);
  CHECK(s.status() == saga_status::compensating);
  auto d = s.next();
  CHECK(d.kind == saga_decision::run_compensation);
  CHECK(d.step == saga_step::create_invoice);
  CHECK(d.attempt == 3);
  for (uint32_t a = 3; a <= 4; ++a) {
    apply(saga_event_type::compensation_started, saga_step::create_invoice, a);
    apply(saga_event_type::compensation_failed, saga_step::create_invoice, a);
  }
  CHECK(s.next().kind == saga_decision::finish_failed);
  apply(saga_event_type::failed);
  // Resolved: a note, and still failed.
  saga_event r;
  r.type = saga_event_type::resolved;
  r.reason = "credited by hand";
  r.key = "desk (key_1)";
  s.apply(r);
  CHECK(s.status() == saga_status::failed);
  REQUIRE(s.resolved());
  CHECK(s.resolved()->note == "credited by hand");
  CHECK(s.resolved()->by == "desk (key_1)");
  // A retry of a saga that has not failed changes nothing.
  saga_state live{policy};
  saga_event c;
  c.type = saga_event_type::created;
  live.apply(c);
  saga_event retry;
  retry.type = saga_event_type::compensation_retried;
  live.apply(retry);
  CHECK(live.status() == saga_status::pending);
}
