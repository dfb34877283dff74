#include <caf/actor.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/inventory.hpp"
#include "actors/order_saga_records.hpp"

using namespace kassa;
using json = nlohmann::json;

namespace {

saga_event E(saga_event_type type, saga_step step, uint32_t attempt,
             std::string ref = {}, std::string error = {}) {
  saga_event e;
  e.type = type;
  e.step = step;
  e.attempt = attempt;
  e.ref = std::move(ref);
  e.error = std::move(error);
  return e;
}

/// Journal rows as the actor writes them, and the state they lead to.
struct journaled {
  saga_state state;
  std::vector<journal_entry> rows;
  order_data order;

  explicit journaled(saga_retry_policy p) : state(p) {
    order.customer_id = "c1";
    add(E(saga_event_type::created, saga_step::reserve_stock, 0));
  }

  void add(const saga_event& ev) {
    state.apply(ev);
    rows.push_back(make_entry("ord_1", order, state, ev, json::object(),
                              static_cast<int32_t>(rows.size()) + 1));
  }

  /// `step`'s attempt started and answered: `ref` on success, else `error`.
  void attempt(saga_step step, uint32_t n, std::string ref,
               std::string error = {}) {
    add(E(saga_event_type::step_started, step, n));
    auto outcome = error.empty() ? saga_event_type::step_succeeded
                                 : saga_event_type::step_failed;
    add(E(outcome, step, n, std::move(ref), std::move(error)));
  }
};

} // namespace

TEST_CASE("an order's view folded from its journal is the actor's state",
          "[order_saga][records]") {
  saga_retry_policy policy;
  policy.max_attempts = 2;
  journaled j{policy};
  j.attempt(saga_step::reserve_stock, 1, "res-1");
  j.attempt(saga_step::create_invoice, 1, "inv-1");
  j.attempt(saga_step::charge_payment, 1, {}, "timeout");
  j.attempt(saga_step::charge_payment, 2, {}, "timeout");

  auto folded = fold_journal(j.rows, policy);
  CHECK(folded.status() == j.state.status());
  CHECK(order_view_json(folded, j.order) == order_view_json(j.state, j.order));
  auto view = json::parse(order_view_json(folded, j.order));
  CHECK(view["steps"][0]["provider_ref"] == "res-1");
  CHECK(view["invoice"]["id"] == "inv-1");
  CHECK(view["steps"][2]["attempts"] == 2);
  CHECK(view["steps"][2]["error"] == "timeout");
}

TEST_CASE("whether a failed attempt was the last depends on the policy the "
          "journal is folded with",
          "[order_saga][records]") {
  saga_retry_policy two;
  two.max_attempts = 2;
  journaled j{two};
  j.attempt(saga_step::reserve_stock, 1, {}, "busy");
  j.attempt(saga_step::reserve_stock, 2, {}, "busy");
  CHECK(order_view_json(fold_journal(j.rows, two), j.order)
        == order_view_json(j.state, j.order));
  saga_retry_policy five;
  five.max_attempts = 5;
  CHECK(order_view_json(fold_journal(j.rows, five), j.order)
        != order_view_json(j.state, j.order));
}

TEST_CASE("a journal entry's data prints as the nlohmann object it stands for",
          "[order_saga][records]") {
  saga_state state{saga_retry_policy{}};
  order_data order;
  order.customer_id = "c1";
  auto failed = E(saga_event_type::step_failed, saga_step::charge_payment, 2,
                  {}, "card \"declined\"\n\\ try\x01 later");
  failed.permanent = true;
  // What make_entry wrote with nlohmann before: extra's members, then the
  // entry's own, which replace extra's of the same name.
  auto reference = [&](const saga_event& ev, json extra, bool with_step) {
    json data = extra;
    data["order_id"] = "ord_1";
    data["status"] = std::string{to_string(state.status())};
    if (with_step) {
      data["step"] = std::string{to_string(ev.step)};
      data["attempt"] = ev.attempt;
    }
    if (!ev.ref.empty())
      data["ref"] = ev.ref;
    if (!ev.error.empty())
      data["error"] = ev.error;
    if (ev.type == saga_event_type::step_failed)
      data["permanent"] = ev.permanent;
    return data.dump();
  };
  SECTION("a step's answer with the id it answers") {
    auto ev = E(saga_event_type::step_succeeded, saga_step::create_invoice, 1,
                "inv-1");
    json extra{{"msg_id", "ord_1:create_invoice:1"}, {"zz", {1, "a"}}};
    auto entry = make_entry("ord_1", order, state, ev, extra, 3);
    CHECK(entry.data == reference(ev, extra, true));
    CHECK(entry.seq == 3);
    CHECK(entry.step == "create_invoice");
  }
  SECTION("a failure with quotes, escapes and control bytes") {
    auto entry = make_entry("ord_1", order, state, failed, json::object(), 4);
    CHECK(entry.data == reference(failed, json::object(), true));
  }
  SECTION("the entry's fields win over extra's") {
    auto ev = E(saga_event_type::created, saga_step::reserve_stock, 0);
    json extra{{"status", "bogus"}, {"total_minor", 100}, {"currency", "HUF"}};
    auto entry = make_entry("ord_1", order, state, ev, extra, 1);
    CHECK(entry.data == reference(ev, extra, false));
    CHECK(json::parse(entry.data)["status"] == "pending");
  }
  SECTION("bytes that are not UTF-8 become U+FFFD, the rest is kept") {
    auto ev = failed;
    ev.error = "bad \xC3\x28 byte, good \xC3\xA9\xE2\x82\xAC, cut \xE2\x82";
    auto entry = make_entry("ord_1", order, state, ev, json::object(), 5);
    auto data = json::parse(entry.data); // valid JSON
    CHECK(data["error"]
          == "bad \xEF\xBF\xBD( byte, good \xC3\xA9\xE2\x82\xAC, cut "
             "\xEF\xBF\xBD\xEF\xBF\xBD");
  }
}

TEST_CASE("each step's call goes to the receiver the order names, with its "
          "verb",
          "[order_saga_records]") {
  order_data order;
  saga_state none{saga_retry_policy{}};
  order.lines = {{"mug", 2}, {"cup", 1}};
  auto shard = inventory_shard("mug");
  auto reserve = call_target(order, none, saga_step::reserve_stock, false);
  CHECK(reserve.receiver == call_receiver::inventory);
  CHECK(reserve.shard == shard);
  CHECK(reserve.op == "reserve");
  CHECK(call_target(order, none, saga_step::reserve_stock, true).op
        == "release");
  CHECK(call_target(order, none, saga_step::commit_stock, false).op
        == "commit");
  CHECK(call_target(order, none, saga_step::commit_stock, false).shard
        == shard);
  CHECK(call_target(order, none, saga_step::create_invoice, false).receiver
        == call_receiver::sandbox_invoicing);
  CHECK(call_target(order, none, saga_step::create_invoice, true).op
        == "storno");
  CHECK(call_target(order, none, saga_step::charge_payment, false).receiver
        == call_receiver::sandbox_payment);
  CHECK(call_target(order, none, saga_step::charge_payment, true).op
        == "refund");
  CHECK(call_target(order, none, saga_step::create_shipment, true).op
        == "cancel_shipment");
  CHECK(call_target(order, none, saga_step::notify_customer, false).receiver
        == call_receiver::contact);
  order.payment_provider = "stripe";
  order.invoicing_provider = "billingo";
  CHECK(call_target(order, none, saga_step::charge_payment, false).receiver
        == call_receiver::stripe);
  CHECK(call_target(order, none, saga_step::create_invoice, false).receiver
        == call_receiver::billingo);
  order.payment_provider = "adyen";
  CHECK(call_target(order, none, saga_step::charge_payment, false).receiver
        == call_receiver::adyen);
  CHECK(call_target(order, none, saga_step::capture_payment, true).receiver
        == call_receiver::adyen);
  order.payment_provider = "stripe";
  // A call's verb is the route's.
  saga_state logic{saga_retry_policy{}};
  auto call = make_call("ord_1", order, logic, saga_step::charge_payment, 1,
                        false, false, {}, provider_result_sink{});
  CHECK(call.op == "charge");
  CHECK(call.message_id == "ord_1:charge_payment:1");
  CHECK(call.idempotency_key == "ord_1:charge_payment");
}

TEST_CASE("each capture of an authorization has its own key and the "
          "compensation refunds what they took",
          "[order_saga][records][capture]") {
  order_data order;
  order.total_minor = 1000;
  order.manual_capture = true;
  saga_state logic{saga_retry_policy{}, true};
  auto ok = [&](saga_step step, uint32_t n, std::string ref) {
    logic.apply(E(saga_event_type::step_started, step, n));
    logic.apply(E(saga_event_type::step_succeeded, step, n, std::move(ref)));
  };
  ok(saga_step::reserve_stock, 1, "res");
  ok(saga_step::create_invoice, 1, "inv");
  ok(saga_step::charge_payment, 1, "pi_1");
  auto capture
    = E(saga_event_type::capture_requested, saga_step::reserve_stock, 0);
  capture.amount_minor = 300;
  capture.final_capture = false;
  capture.key = "ship-1";
  logic.apply(capture);
  auto first = make_call("ord_1", order, logic, saga_step::capture_payment, 1,
                         false, false, {}, provider_result_sink{});
  CHECK(first.idempotency_key == "ord_1:capture_payment");
  CHECK(first.amount_minor == 300);
  CHECK(first.ref == "pi_1");
  CHECK(first.detail == "partial");
  ok(saga_step::capture_payment, 1, "cp_1");
  // The row says what was asked: read back, it is the same event.
  auto row = make_entry("ord_1", order, logic, capture, json::object(), 9);
  auto back = event_of(row);
  CHECK_FALSE(back.final_capture);
  CHECK(back.key == "ship-1");
  CHECK(back.amount_minor == 300);
  capture.amount_minor = 0; // the rest, final
  capture.final_capture = true;
  capture.key.clear();
  logic.apply(capture);
  auto second = make_call("ord_1", order, logic, saga_step::capture_payment, 1,
                          false, false, {}, provider_result_sink{});
  CHECK(second.idempotency_key == "ord_1:capture_payment:2");
  CHECK(second.message_id == "ord_1:capture_payment:1:2");
  CHECK(second.amount_minor == 700);
  CHECK(second.detail.empty());
  CHECK(json::parse(
          make_entry("ord_1", order, logic, capture, json::object(), 10).data)
          .count("final")
        == 0); // a final capture's row is as it always was
  ok(saga_step::capture_payment, 1, "cp_2");
  auto refund = make_call("ord_1", order, logic, saga_step::capture_payment, 1,
                          true, false, {}, provider_result_sink{});
  CHECK(refund.amount_minor == 1000);
  CHECK(refund.idempotency_key == "ord_1:capture_payment:undo");
  auto view = json::parse(order_view_json(logic, order));
  CHECK(view["payment"]["captured_minor"] == 1000);
  CHECK(view["payment"]["captures"].size() == 2);
  CHECK(view["payment"]["captures"][1]["amount_minor"] == 700);
}
