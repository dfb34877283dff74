// Failover between payment processors as plain code: when a charge may
// move to the order's next processor, what the move changes, and the calls
// and journal rows after it.

#include <caf/actor.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga_records.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

saga_event E(saga_event_type type, saga_step step, uint32_t attempt = 0) {
  saga_event e;
  e.type = type;
  e.step = step;
  e.attempt = attempt;
  return e;
}

saga_event rerouted(std::string to) {
  auto e = E(saga_event_type::payment_rerouted, saga_step::charge_payment);
  e.ref = std::move(to);
  e.error = "adyen 503";
  return e;
}

/// A saga at its charge, attempted once with `failure`.
saga_state at_charge(saga_event failure) {
  saga_state s{saga_retry_policy{}};
  s.apply(E(saga_event_type::created, saga_step::reserve_stock));
  for (auto step : {saga_step::reserve_stock, saga_step::create_invoice}) {
    s.apply(E(saga_event_type::step_started, step, 1));
    s.apply(E(saga_event_type::step_succeeded, step, 1));
  }
  s.apply(E(saga_event_type::step_started, saga_step::charge_payment, 1));
  s.apply(failure);
  return s;
}

order_data routed_order() {
  order_data o;
  o.payment_provider = "adyen";
  o.payment_processors = {"adyen", "sandbox"};
  o.total_minor = 2500;
  o.currency = "EUR";
  return o;
}

} // namespace

TEST_CASE("a charge moves on only while its processor may hold nothing",
          "[payment_failover]") {
  auto failed = E(saga_event_type::step_failed, saga_step::charge_payment, 1);
  CHECK(at_charge(failed).may_reroute());
  auto parked = E(saga_event_type::parked, saga_step::charge_payment, 1);
  CHECK(at_charge(parked).may_reroute());
  // An unknown outcome (or a payment Adyen calls pending) is settled with
  // the same processor first.
  auto unknown = failed;
  unknown.maybe_exists = true;
  CHECK_FALSE(at_charge(unknown).may_reroute());
  auto three_ds = E(saga_event_type::waiting, saga_step::charge_payment, 1);
  CHECK_FALSE(at_charge(three_ds).may_reroute());
  auto done = E(saga_event_type::step_succeeded, saga_step::charge_payment, 1);
  CHECK_FALSE(at_charge(done).may_reroute());
  auto cancelled = at_charge(failed);
  cancelled.apply(
    E(saga_event_type::cancel_requested, saga_step::reserve_stock));
  CHECK_FALSE(cancelled.may_reroute());
}

TEST_CASE("which answers move a charge to the next processor",
          "[payment_failover]") {
  auto order = routed_order();
  auto s
    = at_charge(E(saga_event_type::step_failed, saga_step::charge_payment, 1));
  auto answer = [](provider_outcome o, std::string ref = {}) {
    provider_result r;
    r.outcome = o;
    r.ref = std::move(ref);
    return r;
  };
  auto step = saga_step::charge_payment;
  CHECK(reroute_payment(order, s, step, answer(provider_outcome::unavailable))
        == "sandbox");
  CHECK(reroute_payment(order, s, step, answer(provider_outcome::transient))
        == "sandbox");
  // A pending payment at the processor, an unknown outcome, a decline, a
  // 3-D Secure step: not moved.
  CHECK_FALSE(reroute_payment(order, s, step,
                              answer(provider_outcome::transient, "PSP1")));
  CHECK_FALSE(
    reroute_payment(order, s, step, answer(provider_outcome::unknown)));
  CHECK_FALSE(
    reroute_payment(order, s, step, answer(provider_outcome::permanent)));
  CHECK_FALSE(
    reroute_payment(order, s, step, answer(provider_outcome::action_required)));
  // An answer after the connection's own retry of a call that may have
  // been taken: the payment may exist here.
  auto after_timeout = answer(provider_outcome::unavailable);
  after_timeout.maybe_sent = true;
  CHECK_FALSE(reroute_payment(order, s, step, after_timeout));
  auto parked = E(saga_event_type::parked, saga_step::charge_payment, 1);
  parked.maybe_exists = true;
  CHECK_FALSE(at_charge(parked).may_reroute());
  // Another step's outage parks as before; so does the last processor's.
  CHECK_FALSE(reroute_payment(order, s, saga_step::create_invoice,
                              answer(provider_outcome::unavailable)));
  s.apply(rerouted("sandbox"));
  CHECK_FALSE(
    reroute_payment(order, s, step, answer(provider_outcome::unavailable)));
  // An order that names its processor has no other.
  order_data single;
  single.payment_provider = "stripe";
  CHECK_FALSE(reroute_payment(
    single,
    at_charge(E(saga_event_type::step_failed, saga_step::charge_payment, 1)),
    step, answer(provider_outcome::unavailable)));
}

TEST_CASE("a rerouted charge starts afresh at the next processor",
          "[payment_failover]") {
  auto order = routed_order();
  auto failed = E(saga_event_type::step_failed, saga_step::charge_payment, 1);
  auto s = at_charge(failed);
  CHECK(payment_processor(order, s) == "adyen");
  CHECK(next_payment_processor(order, s) == "sandbox");
  s.apply(rerouted("sandbox"));
  CHECK(s.payment_processor() == "sandbox");
  CHECK(payment_processor(order, s) == "sandbox");
  CHECK(next_payment_processor(order, s).empty()); // the last one
  CHECK(s.step(saga_step::charge_payment).status == step_status::pending);
  auto d = s.next();
  CHECK(d.kind == saga_decision::run_step);
  CHECK(d.step == saga_step::charge_payment);
  CHECK(d.attempt == 1);
  CHECK(d.delay.count() == 0);
  CHECK(call_target(order, s, saga_step::charge_payment, false).receiver
        == call_receiver::sandbox_payment);
  // Its own message ids and key: a late answer of the first processor
  // matches no call, and the second sees a payment of its own.
  auto call = make_call("ord_1", order, s, saga_step::charge_payment, 1, false,
                        false, {}, provider_result_sink{});
  CHECK(call.message_id == "ord_1:charge_payment:1:sandbox");
  CHECK(call.idempotency_key == "ord_1:charge_payment:sandbox");
  // What the second one holds is undone there.
  s.apply(E(saga_event_type::step_started, saga_step::charge_payment, 1));
  s.apply(E(saga_event_type::step_succeeded, saga_step::charge_payment, 1));
  CHECK(call_target(order, s, saga_step::charge_payment, true).receiver
        == call_receiver::sandbox_payment);
  CHECK_FALSE(s.may_reroute());
  // Not rerouted: the first processor's own key, as before.
  auto first = at_charge(failed);
  CHECK(make_call("ord_1", order, first, saga_step::charge_payment, 2, false,
                  false, {}, provider_result_sink{})
          .idempotency_key
        == "ord_1:charge_payment");
  CHECK(call_target(order, first, saga_step::charge_payment, false).receiver
        == call_receiver::adyen);
}

TEST_CASE("the reroute and an unknown outcome survive the journal",
          "[payment_failover]") {
  auto order = routed_order();
  saga_state s{saga_retry_policy{}};
  std::vector<journal_entry> rows;
  auto add = [&](saga_event ev) {
    s.apply(ev);
    rows.push_back(make_entry("ord_1", order, s, ev, json::object(),
                              static_cast<int32_t>(rows.size()) + 1));
  };
  add(E(saga_event_type::created, saga_step::reserve_stock));
  add(E(saga_event_type::step_started, saga_step::charge_payment, 1));
  add(rerouted("sandbox"));
  auto unknown = E(saga_event_type::step_failed, saga_step::charge_payment, 1);
  add(E(saga_event_type::step_started, saga_step::charge_payment, 1));
  unknown.maybe_exists = true;
  unknown.error = "timeout";
  add(unknown);
  CHECK(rows[2].type == "payment.rerouted");
  CHECK(json::parse(rows[2].data)["ref"] == "sandbox");
  CHECK(json::parse(rows[4].data)["maybe_exists"] == true);
  auto folded = fold_journal(rows, saga_retry_policy{});
  CHECK(folded.payment_processor() == "sandbox");
  CHECK_FALSE(folded.may_reroute());
  // A plain failure row carries no such member (rows stay as they were).
  add(E(saga_event_type::step_started, saga_step::charge_payment, 2));
  add(E(saga_event_type::step_failed, saga_step::charge_payment, 2));
  CHECK_FALSE(json::parse(rows.back().data).contains("maybe_exists"));
  CHECK(parse_saga_event_type("payment.rerouted")
        == saga_event_type::payment_rerouted);
}
