#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
