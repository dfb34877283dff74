// The saga's logic for payments: manual capture and several captures, a
// charge the processor decides later, refunds and their credit notes.

#include <algorithm>

#include <catch2/catch.hpp>

#include "actors/order_saga_logic.hpp"
#include "saga_driver.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

// -- manual capture -----------------------------------------------------------

namespace {

saga_event capture_of(int64_t amount) {
  auto e = E(saga_event_type::capture_requested);
  e.amount_minor = amount;
  return e;
}

} // namespace

TEST_CASE("manual capture waits after the authorization and goes on when "
          "captured",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  CHECK(d.trace
        == std::vector<std::string>{"do:reserve_stock", "do:create_invoice",
                                    "do:charge_payment"});
  CHECK(d.state.status() == saga_status::awaiting_capture);
  CHECK(d.state.awaiting_capture());
  CHECK(d.state.next().kind == saga_decision::idle);
  CHECK_FALSE(is_terminal(d.state.status()));
  d.record(capture_of(700));
  CHECK(d.state.status() == saga_status::running);
  CHECK(d.state.capture_round_amount(1000) == 700);
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.trace
        == std::vector<std::string>{"do:reserve_stock", "do:create_invoice",
                                    "do:charge_payment", "do:capture_payment",
                                    "do:create_shipment", "do:commit_stock",
                                    "do:notify_customer"});
}

TEST_CASE("a void of an authorization compensates it with the order",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(E(saga_event_type::cancel_requested));
  CHECK_FALSE(d.state.awaiting_capture());
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.trace
        == std::vector<std::string>{
          "do:reserve_stock", "do:create_invoice", "do:charge_payment",
          "undo:charge_payment", "undo:create_invoice", "undo:reserve_stock"});
}

TEST_CASE("after a capture a later failure refunds the capture and does not "
          "void the authorization",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(capture_of(0));
  d.run([](saga_step s, bool comp, uint32_t) {
    return !comp && s == saga_step::create_shipment ? 'p' : 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.trace
        == std::vector<std::string>{
          "do:reserve_stock", "do:create_invoice", "do:charge_payment",
          "do:capture_payment", "do:create_shipment", "undo:capture_payment",
          "undo:create_invoice", "undo:reserve_stock"});
  CHECK(d.state.step(saga_step::capture_payment).status
        == step_status::compensated);
  CHECK(d.state.step(saga_step::charge_payment).status == step_status::done);
}

TEST_CASE("a capture refused for good voids the authorization",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(capture_of(0));
  d.run([](saga_step s, bool comp, uint32_t) {
    return !comp && s == saga_step::capture_payment ? 'p' : 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.trace.back() == "undo:reserve_stock");
  CHECK(std::find(d.trace.begin(), d.trace.end(), "undo:charge_payment")
        != d.trace.end());
}

namespace {

saga_event partial_capture_of(int64_t amount, std::string key) {
  auto e = capture_of(amount);
  e.final_capture = false;
  e.key = std::move(key);
  return e;
}

size_t count_of(const std::vector<std::string>& trace, const char* what) {
  return static_cast<size_t>(std::count(trace.begin(), trace.end(), what));
}

} // namespace

TEST_CASE("captures that are not final leave the authorization waiting for "
          "the next until a final one",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(partial_capture_of(300, "k1"));
  CHECK_FALSE(d.state.awaiting_capture()); // one under way
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::awaiting_capture);
  CHECK(d.state.capture_sum(1000) == 300);
  CHECK_FALSE(d.state.capture_closed());
  d.record(partial_capture_of(200, "k2"));
  CHECK(d.state.step(saga_step::capture_payment).attempts == 0); // afresh
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::awaiting_capture);
  CHECK(d.state.capture_sum(1000) == 500);
  d.record(capture_of(0)); // the rest, final
  CHECK(d.state.capture_round_amount(1000) == 500);
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.capture_closed());
  CHECK(d.state.captured_minor(1000) == 1000);
  CHECK(count_of(d.trace, "do:capture_payment") == 3);
  REQUIRE(d.state.captures().size() == 3);
  CHECK(d.state.captures()[0].key == "k1");
  CHECK_FALSE(d.state.captures()[0].final);
  CHECK(d.state.captures()[2].final);
  for (auto& c : d.state.captures())
    CHECK(c.status == capture_state::status_t::succeeded);
  // The journal folds to the same state.
  saga_state again{saga_retry_policy{}, true};
  for (auto& e : d.journal)
    again.apply(e);
  CHECK(again.capture_sum(1000) == 1000);
  CHECK(again.status() == saga_status::completed);
}

TEST_CASE("a void after captures that were not final refunds them and "
          "releases the rest",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(partial_capture_of(300, "k1"));
  d.run(all_ok);
  REQUIRE(d.state.status() == saga_status::awaiting_capture);
  d.record(E(saga_event_type::cancel_requested));
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.trace
        == std::vector<std::string>{
          "do:reserve_stock", "do:create_invoice", "do:charge_payment",
          "do:capture_payment", "undo:capture_payment", "undo:charge_payment",
          "undo:create_invoice", "undo:reserve_stock"});
  CHECK(d.state.captured_minor(1000) == 0);
}

TEST_CASE("a later capture refused for good refunds the earlier ones and "
          "voids the authorization",
          "[saga][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(partial_capture_of(300, "k1"));
  d.run(all_ok);
  d.record(partial_capture_of(200, "k2"));
  d.run([](saga_step s, bool comp, uint32_t) {
    return !comp && s == saga_step::capture_payment ? 'p' : 'o';
  });
  CHECK(d.state.status() == saga_status::cancelled);
  CHECK(d.state.captures()[1].status == capture_state::status_t::failed);
  CHECK(count_of(d.trace, "undo:capture_payment") == 1);
  CHECK(count_of(d.trace, "undo:charge_payment") == 1);
}

TEST_CASE("an order captured at once never waits for a capture",
          "[saga][capture]") {
  driver d;
  d.run(all_ok);
  CHECK_FALSE(d.state.has_step(saga_step::capture_payment));
  CHECK(d.state.status() == saga_status::completed);
  d.record(capture_of(5)); // a stray event changes nothing
  CHECK(d.state.status() == saga_status::completed);
}

// -- a charge the processor decides later
// ---------------------------------------

namespace {

/// A driver whose charge waited: Adyen's `Received`, naming payment `psp`.
driver pending_charge(const std::string& psp) {
  driver d;
  d.run([](saga_step s, bool, uint32_t) {
    return s == saga_step::charge_payment ? 'w' : 'o';
  });
  // The driver's wait names nothing; the processor's named the payment.
  auto waiting = E(saga_event_type::waiting, saga_step::charge_payment, 1);
  waiting.pending = true;
  waiting.ref = psp;
  d.record(waiting);
  return d;
}

} // namespace

TEST_CASE("a pending charge settled by the processor goes on with the order",
          "[saga][pending]") {
  auto d = pending_charge("P1");
  CHECK(d.state.status() == saga_status::waiting);
  CHECK(d.state.charge_pending());
  CHECK(d.state.held_charge_ref() == "P1");
  CHECK(d.state.next().kind == saga_decision::idle);
  auto settled
    = E(saga_event_type::step_succeeded, saga_step::charge_payment, 1);
  settled.ref = "P1";
  d.record(settled);
  CHECK(d.state.status() == saga_status::running);
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(std::count(d.trace.begin(), d.trace.end(), "undo:charge_payment") == 0);
}

TEST_CASE("a pending charge given up (timeout or cancel) is reversed, one "
          "refused is not",
          "[saga][pending]") {
  SECTION("timeout") {
    auto d = pending_charge("P2");
    auto timeout
      = E(saga_event_type::step_failed, saga_step::charge_payment, 1, true);
    timeout.maybe_exists = true; // it may complete there yet
    d.record(timeout);
    auto n = d.state.next();
    REQUIRE(n.kind == saga_decision::run_compensation);
    CHECK(n.step == saga_step::charge_payment);
    d.record(
      E(saga_event_type::compensation_started, saga_step::charge_payment, 1));
    CHECK(d.state.charge_reversal());
    // A reversal that failed stays a reversal to run again.
    d.record(
      E(saga_event_type::compensation_failed, saga_step::charge_payment, 1));
    CHECK(d.state.step(saga_step::charge_payment).status
          == step_status::failed);
    n = d.state.next();
    REQUIRE(n.kind == saga_decision::run_compensation);
    CHECK(n.step == saga_step::charge_payment);
    d.run(all_ok);
    CHECK(d.state.status() == saga_status::cancelled);
    CHECK(d.state.step(saga_step::charge_payment).status
          == step_status::compensated);
  }
  SECTION("cancel") {
    auto d = pending_charge("P3");
    d.record(E(saga_event_type::cancel_requested));
    auto n = d.state.next();
    REQUIRE(n.kind == saga_decision::run_compensation);
    CHECK(n.step == saga_step::charge_payment);
    d.run(all_ok);
    CHECK(d.state.status() == saga_status::cancelled);
  }
  SECTION("refused") {
    auto d = pending_charge("P4");
    d.record(E(saga_event_type::step_failed, saga_step::charge_payment, 1,
               true)); // the processor's word: nothing held
    CHECK(d.state.held_charge_ref().empty());
    d.run(all_ok);
    CHECK(d.state.status() == saga_status::cancelled);
    CHECK(std::count(d.trace.begin(), d.trace.end(), "undo:charge_payment")
          == 0);
  }
}

// -- refunds ------------------------------------------------------------------

namespace {

saga_event refund_event(saga_event_type type, const std::string& id,
                        int64_t amount = 0, uint32_t attempt = 0) {
  auto e = E(type);
  e.refund_id = id;
  e.amount_minor = amount;
  e.attempt = attempt;
  return e;
}

} // namespace

TEST_CASE("refunds of a completed order run one at a time and leave it "
          "completed",
          "[saga][refund]") {
  driver d;
  d.run(all_ok);
  REQUIRE(d.state.status() == saga_status::completed);
  CHECK(d.state.captured_minor(1000) == 1000);
  d.record(refund_event(saga_event_type::refund_requested, "rf_a", 300));
  d.record(refund_event(saga_event_type::refund_requested, "rf_b", 200));
  CHECK(d.state.status() == saga_status::refunding);
  CHECK_FALSE(is_terminal(d.state.status()));
  CHECK(d.state.refunded_minor() == 500); // asked for counts at once
  auto n = d.state.next();
  REQUIRE(n.kind == saga_decision::run_refund);
  CHECK(n.refund == 0);
  CHECK(n.attempt == 1);
  d.record(refund_event(saga_event_type::refund_started, "rf_a", 0, 1));
  // Started without a result (a crash): run again, same attempt count + 1.
  n = d.state.next();
  CHECK(n.kind == saga_decision::run_refund);
  CHECK(n.refund == 0);
  CHECK(n.attempt == 2);
  auto failed = refund_event(saga_event_type::refund_failed, "rf_a", 0, 1);
  failed.error = "timeout";
  d.record(failed);
  n = d.state.next();
  CHECK(n.refund == 0);
  CHECK(n.delay.count() > 0); // a transient failure waits before the retry
  d.record(refund_event(saga_event_type::refund_started, "rf_a", 0, 2));
  d.record(refund_event(saga_event_type::refund_succeeded, "rf_a"));
  // The order was invoiced: the refund's credit note comes first.
  n = d.state.next();
  REQUIRE(n.kind == saga_decision::run_credit_note);
  CHECK(n.refund == 0);
  CHECK(d.state.status() == saga_status::refunding);
  d.record(refund_event(saga_event_type::credit_note_started, "rf_a", 0, 1));
  auto issued = refund_event(saga_event_type::credit_note_issued, "rf_a");
  issued.ref = "cn_1";
  d.record(issued);
  n = d.state.next();
  CHECK(n.kind == saga_decision::run_refund);
  CHECK(n.refund == 1);
  d.record(refund_event(saga_event_type::refund_started, "rf_b", 0, 1));
  auto refused = refund_event(saga_event_type::refund_failed, "rf_b", 0, 1);
  refused.permanent = true;
  d.record(refused);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.next().kind == saga_decision::idle);
  CHECK(d.state.refunds()[0].status == refund_state::status_t::succeeded);
  CHECK(d.state.refunds()[1].status == refund_state::status_t::failed);
  CHECK(d.state.refunded_minor() == 300); // a failed refund gives nothing
  CHECK(d.state.refunds()[0].credit_note == refund_state::note_t::issued);
  CHECK(d.state.refunds()[0].note_ref == "cn_1");
  // A refused refund corrects no invoice.
  CHECK(d.state.refunds()[1].credit_note == refund_state::note_t::none);
}

TEST_CASE("a refund credit note is retried and a refusal leaves the "
          "refund done",
          "[saga][refund]") {
  driver d;
  d.run(all_ok);
  d.record(refund_event(saga_event_type::refund_requested, "rf_a", 300));
  d.record(refund_event(saga_event_type::refund_started, "rf_a", 0, 1));
  d.record(refund_event(saga_event_type::refund_succeeded, "rf_a"));
  d.record(refund_event(saga_event_type::credit_note_started, "rf_a", 0, 1));
  // Started without a result (a crash): again, as attempt 2 (the actor
  // looks the note up first).
  auto n = d.state.next();
  REQUIRE(n.kind == saga_decision::run_credit_note);
  CHECK(n.attempt == 2);
  auto transient = refund_event(saga_event_type::credit_note_failed, "rf_a");
  transient.error = "provider error 503";
  d.record(transient);
  n = d.state.next();
  CHECK(n.kind == saga_decision::run_credit_note);
  CHECK(n.delay.count() > 0);
  CHECK(d.state.status() == saga_status::refunding);
  d.record(refund_event(saga_event_type::credit_note_started, "rf_a", 0, 2));
  auto refused = refund_event(saga_event_type::credit_note_failed, "rf_a");
  refused.permanent = true;
  refused.error = "invoice locked";
  d.record(refused);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.next().kind == saga_decision::idle);
  CHECK(d.state.refunds()[0].status == refund_state::status_t::succeeded);
  CHECK(d.state.refunds()[0].credit_note == refund_state::note_t::failed);
  CHECK(d.state.refunded_minor() == 300);
}

TEST_CASE("what a manual order captured bounds its refunds",
          "[saga][refund][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  CHECK(d.state.captured_minor(1000) == 0); // authorized only
  d.record(capture_of(600));
  d.run(all_ok);
  CHECK(d.state.status() == saga_status::completed);
  CHECK(d.state.captured_minor(1000) == 600);
}

TEST_CASE("a processor's later failure of an acknowledged refund or capture "
          "takes it out of what was refunded or captured",
          "[saga][refund][capture]") {
  driver d{{}, true};
  d.run(all_ok);
  d.record(capture_of(0));
  d.run(all_ok);
  REQUIRE(d.state.status() == saga_status::completed);
  REQUIRE(d.state.captured_minor(1000) == 1000);
  d.record(refund_event(saga_event_type::refund_requested, "rf_a", 400));
  d.record(refund_event(saga_event_type::refund_started, "rf_a", 0, 1));
  auto ok = refund_event(saga_event_type::refund_succeeded, "rf_a");
  ok.ref = "MOD1";
  d.record(ok);
  // The driver's invoice has a ref: the credit note is to be issued.
  REQUIRE(d.state.refunds()[0].credit_note == refund_state::note_t::pending);
  auto failed = refund_event(saga_event_type::refund_failed, "rf_a", 0, 1);
  failed.permanent = true;
  failed.error = "adyen reported the refund failed";
  d.record(failed);
  CHECK(d.state.refunds()[0].status == refund_state::status_t::failed);
  CHECK(d.state.refunds()[0].credit_note == refund_state::note_t::none);
  CHECK(d.state.refunded_minor() == 0);
  CHECK(d.state.next().kind == saga_decision::idle); // no credit note
  CHECK(d.state.status() == saga_status::completed);
  auto lost = E(saga_event_type::capture_failed, saga_step::capture_payment);
  lost.ref = d.state.captures()[0].ref;
  lost.error = "adyen reported the capture failed";
  d.record(lost);
  CHECK(d.state.captures()[0].status == capture_state::status_t::failed);
  CHECK(d.state.captures()[0].error == "adyen reported the capture failed");
  CHECK(d.state.captured_minor(1000) == 0);
  CHECK(d.state.status() == saga_status::completed);
}
