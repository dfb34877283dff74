// The commands a saga takes from the outside: a customer's cancel and 3-D
// Secure confirmation, the shop's capture and void of an authorized order
// (manual capture), the void of an authorization nobody captured in time
// (`orders.authorization_ttl_ms`), and refunds of a completed order. The
// capture and void run as steps (capture_payment; the void is
// charge_payment's compensation); refunds run here, one at a time.

#include <algorithm>
#include <cstdio>
#include <variant>

#include <nlohmann/json.hpp>

#include "actors/order_saga_actor.hpp"
#include "actors/type_ids.hpp"

namespace kassa::saga_detail {

using json = nlohmann::json;

namespace {

reply not_awaiting(const order_saga_state& st) {
  return reply::fail(
    failure_code::not_awaiting_capture,
    "order " + st.id + " is " + std::string{to_string(st.logic.status())}
      + (st.logic.manual_capture()
           ? ", not awaiting a capture"
           : " and was not placed with \"capture\":\"manual\""));
}

/// Compensates the order, starting with the authorization's void.
void void_authorization(saga_actor* self, json why,
                        std::function<void()> then) {
  report_idle(self, false);
  saga_event ev;
  ev.type = saga_event_type::cancel_requested;
  journal_event(self, ev, std::move(why), [self, then = std::move(then)] {
    then();
    advance_saga(self);
  });
}

} // namespace

std::string capture_timer_id(const order_saga_state& st) {
  return "capture:" + st.id + ":"
         + st.logic.step(saga_step::charge_payment).ref;
}

void arm_capture_timeout(saga_actor* self) {
  auto& st = self->state;
  st.capture_due = node_now(st) + st.deps.capture_timeout;
  wait_until(self, st.capture_due, capture_timer_id(st));
}

void on_capture_timeout(saga_actor* self, const std::string& timer) {
  auto& st = self->state;
  if (!st.logic.awaiting_capture() || timer != capture_timer_id(st))
    return; // captured or voided meanwhile
  if (!wait_until(self, st.capture_due, timer))
    return; // not yet (a test clock is looked at again)
  void_authorization(self,
                     json{{"void", true},
                          {"reason", "authorization_expired: not captured "
                                     "within orders.authorization_ttl_ms"}},
                     [] {});
}

namespace {

/// The answer to a capture request: the capture (its number counts from
/// 1) and where the order stands.
reply capture_accepted(const order_saga_state& st, size_t index) {
  auto& c = st.logic.captures().at(index);
  return reply::accepted(json{
    {"id", st.id},
    {"status", "running"},
    {"capture", index + 1},
    {"amount_minor", c.amount_minor > 0
                       ? c.amount_minor
                       : st.logic.capture_round_amount(st.order.total_minor)},
    {"final", c.final}}.dump());
}

} // namespace

void on_capture(saga_actor* self, int64_t amount, const std::string& key,
                bool final, const reply_ptr& out) {
  auto& st = self->state;
  auto& captures = st.logic.captures();
  if (!key.empty())
    for (size_t i = 0; i < captures.size(); ++i)
      if (captures[i].key == key) {
        // The same request again (its answer was lost): the same capture.
        if (captures[i].final == final
            && (amount == 0 || amount == captures[i].amount_minor))
          out->send(capture_accepted(st, i));
        else
          out->send(reply::fail(failure_code::idempotency_key_reused,
                                "Idempotency-Key " + key
                                  + " came before with another capture"));
        return;
      }
  if (!st.logic.awaiting_capture()) {
    out->send(not_awaiting(st));
    return;
  }
  auto captured = st.logic.capture_sum(st.order.total_minor);
  auto rest = st.order.total_minor - captured;
  if (amount > rest) {
    out->send(reply::fail(failure_code::invalid_field,
                          "amount_minor is more than the "
                            + std::to_string(rest)
                            + " left of the authorization (authorized "
                            + std::to_string(st.order.total_minor)
                            + ", captured " + std::to_string(captured) + ")",
                          "amount_minor"));
    return;
  }
  if (amount == 0 || amount == rest)
    final = true; // nothing would be left for another
  if (!final && payment_processor(st.order, st.logic) == "stripe") {
    out->send(reply::fail(
      failure_code::invalid_field,
      "final: stripe captures an authorization once (several captures need "
      "its multicapture, newer than the API version kassa follows); "
      "capture the whole amount to ship, or let it be final",
      "final"));
    return;
  }
  report_idle(self, false);
  saga_event ev;
  ev.type = saga_event_type::capture_requested;
  ev.amount_minor = amount > 0 ? amount : rest;
  ev.final_capture = final;
  ev.key = key;
  // The capture step's start goes into the same append (one commit).
  auto after = st.logic;
  after.apply(ev);
  auto d = after.next();
  bool chain = d.kind == saga_decision::run_step
               && d.step == saga_step::capture_payment && d.delay.count() == 0;
  std::vector<std::pair<saga_event, json>> events;
  events.emplace_back(ev, json::object());
  if (chain) {
    saga_event started;
    started.type = saga_event_type::step_started;
    started.step = d.step;
    started.attempt = d.attempt;
    events.emplace_back(started, json::object());
  }
  journal_events(self, std::move(events), [self, out, chain, d] {
    auto& st = self->state;
    out->send(capture_accepted(st, st.logic.captures().size() - 1));
    if (chain)
      run_step(self, d.step, d.attempt);
    else
      advance_saga(self);
  });
}

void on_void(saga_actor* self, const reply_ptr& out) {
  auto& st = self->state;
  if (!st.logic.awaiting_capture()) {
    out->send(not_awaiting(st));
    return;
  }
  void_authorization(self, json{{"void", true}}, [self, out] {
    out->send(reply::accepted(
      json{{"id", self->state.id}, {"status", "compensating"}}.dump()));
  });
}

std::string refund_id(const std::string& order_id, const std::string& key) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (char c : order_id + '\n' + key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string{"rf_"} + hex;
}

namespace {

json refund_json(const refund_state& r) {
  json j{{"id", r.id},
         {"amount_minor", r.amount_minor},
         {"status", to_string(r.status)}};
  if (!r.lines.empty())
    j["lines"] = lines_json(r.lines);
  return j;
}

/// The unit price of `sku` in the order (0: not in it, or priced before
/// prices were stored).
int64_t unit_price(const order_data& order, const std::string& sku) {
  for (size_t i = 0; i < order.lines.size() && i < order.unit_prices.size();
       ++i)
    if (order.lines[i].sku == sku)
      return order.unit_prices[i];
  return 0;
}

/// The value of refund `lines` at the order's prices, or why they cannot
/// be given back (a SKU not ordered, more units than are left).
std::variant<int64_t, reply> lines_value(const order_data& order,
                                         const saga_state& logic,
                                         const std::vector<order_line>& lines) {
  int64_t value = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto field = "lines[" + std::to_string(i) + "]";
    auto& line = lines[i];
    auto at
      = std::find_if(order.lines.begin(), order.lines.end(), [&](auto& l) {
          return l.sku == line.sku;
        });
    if (at == order.lines.end())
      return reply::fail(failure_code::invalid_field,
                         field + ".sku: " + line.sku + " is not in the order",
                         field + ".sku");
    auto left = at->quantity - logic.refunded_quantity(line.sku);
    if (line.quantity > left)
      return reply::fail(failure_code::invalid_field,
                         field + ".quantity: " + std::to_string(line.quantity)
                           + " is more than the " + std::to_string(left)
                           + " of " + line.sku + " not given back yet",
                         field + ".quantity");
    value += unit_price(order, line.sku) * line.quantity;
  }
  return value;
}

} // namespace

void on_refund(saga_actor* self, int64_t amount, const std::string& key,
               const std::string& reason, const std::vector<order_line>& lines,
               const reply_ptr& out) {
  auto& st = self->state;
  auto refuse = [&out](reply why) {
    out->send(std::move(why)); // the saga exits after if nothing is left
  };
  for (auto& r : st.logic.refunds())
    if (r.key == key) {
      // The amount this request asks for: given, or its lines' value (so
      // a repeat without the amount of a refund that named one is another
      // request, not the same one).
      auto asked = amount;
      if (asked == 0)
        for (auto& l : lines)
          asked += unit_price(st.order, l.sku) * l.quantity;
      if (r.amount_minor == asked && r.reason == reason && r.lines == lines)
        out->send(reply::accepted(refund_json(r).dump()));
      else
        refuse(reply::fail(failure_code::idempotency_key_reused,
                           "Idempotency-Key " + key
                             + " came before with another refund"));
      return;
    }
  auto status = st.logic.status();
  if (status != saga_status::completed && status != saga_status::refunding) {
    refuse(reply::fail(
      failure_code::order_not_refundable,
      "order " + st.id + " is " + std::string{to_string(status)}
        + ": only a completed order is refunded (a cancelled one was "
          "refunded by its compensation)"));
    return;
  }
  if (!lines.empty()) {
    auto value = lines_value(st.order, st.logic, lines);
    if (auto why = std::get_if<reply>(&value)) {
      refuse(std::move(*why));
      return;
    }
    auto worth = std::get<int64_t>(value);
    if (worth <= 0) {
      refuse(reply::fail(failure_code::invalid_field,
                         "lines: no price is known for them (an order from "
                         "before prices were stored); refund an amount",
                         "lines"));
      return;
    }
    if (amount == 0)
      amount = worth;
    else if (amount > worth) {
      refuse(reply::fail(failure_code::invalid_field,
                         "amount_minor " + std::to_string(amount)
                           + " is more than the lines' value "
                           + std::to_string(worth),
                         "amount_minor"));
      return;
    }
  }
  auto captured = st.logic.captured_minor(st.order.total_minor);
  auto refunded = st.logic.refunded_minor();
  if (amount > captured - refunded) {
    refuse(reply::fail(
      failure_code::refund_exceeds_captured,
      "amount_minor " + std::to_string(amount) + " is more than the "
        + std::to_string(captured - refunded) + " still refundable (captured "
        + std::to_string(captured) + ", refunded or " + "being refunded "
        + std::to_string(refunded) + ")",
      "amount_minor"));
    return;
  }
  saga_event ev;
  ev.type = saga_event_type::refund_requested;
  ev.refund_id = refund_id(st.id, key);
  ev.amount_minor = amount;
  ev.key = key;
  ev.reason = reason;
  ev.lines = lines;
  journal_event(self, ev, json::object(), [self, out, id = ev.refund_id] {
    for (auto& r : self->state.logic.refunds())
      if (r.id == id)
        out->send(reply::accepted(refund_json(r).dump()));
    advance_saga(self);
  });
}

void run_refund(saga_actor* self, size_t index, uint32_t attempt) {
  auto& st = self->state;
  saga_event ev;
  ev.type = saga_event_type::refund_started;
  ev.refund_id = st.logic.refunds().at(index).id;
  ev.attempt = attempt;
  journal_event(self, ev, json::object(), [self, index, attempt] {
    auto& st = self->state;
    auto call = make_refund_call(st.id, st.order, st.logic, index, attempt,
                                 provider_result_sink{self});
    auto& target = st.deps.targets.at(
      call_target(st.order, st.logic, saga_step::charge_payment, true));
    st.expected = call.message_id;
    st.expected_refund = st.logic.refunds().at(index).id;
    st.expected_attempt = attempt;
    st.call_deadline = self->clock().now() + st.deps.call_timeout;
    arm_call_timer(self, st.deps.call_timeout);
    target.send(self, atom::call::value, std::move(call));
  });
}

namespace {

void send_credit_note_call(saga_actor* self, size_t index, uint32_t attempt,
                           bool lookup) {
  auto& st = self->state;
  auto call = make_credit_note_call(st.id, st.order, st.logic, index, attempt,
                                    lookup, provider_result_sink{self});
  auto& target = st.deps.targets.at(
    call_target(st.order, st.logic, saga_step::create_invoice, false));
  st.expected = call.message_id;
  st.expected_refund = st.logic.refunds().at(index).id;
  st.expected_credit_note = true;
  st.expected_attempt = attempt;
  st.call_deadline = self->clock().now() + st.deps.call_timeout;
  arm_call_timer(self, st.deps.call_timeout);
  target.send(self, atom::call::value, std::move(call));
}

/// The invoicing provider's answer about the credit note in flight.
void on_credit_note_result(saga_actor* self, const provider_result& r) {
  auto& st = self->state;
  auto id = std::exchange(st.expected_refund, {});
  st.expected_credit_note = false;
  st.expected.clear();
  bool lookup
    = r.message_id.size() > 5
      && r.message_id.compare(r.message_id.size() - 5, 5, ":find") == 0;
  if (lookup && r.outcome == provider_outcome::ok && r.ref.empty()) {
    // Not issued before the crash or timeout: issue it now.
    for (size_t i = 0; i < st.logic.refunds().size(); ++i)
      if (st.logic.refunds()[i].id == id)
        send_credit_note_call(self, i, st.expected_attempt, false);
    return;
  }
  saga_event ev;
  ev.refund_id = id;
  ev.attempt = st.expected_attempt;
  if (r.outcome == provider_outcome::ok) {
    ev.type = saga_event_type::credit_note_issued;
    ev.ref = r.ref;
  } else {
    ev.type = saga_event_type::credit_note_failed;
    ev.permanent = r.outcome == provider_outcome::permanent;
    ev.error = r.error;
  }
  journal_event(self, ev, json{{"msg_id", r.message_id}}, [self] {
    advance_saga(self);
  });
}

} // namespace

void run_credit_note(saga_actor* self, size_t index, uint32_t attempt) {
  auto& st = self->state;
  saga_event ev;
  ev.type = saga_event_type::credit_note_started;
  ev.refund_id = st.logic.refunds().at(index).id;
  ev.attempt = attempt;
  journal_event(self, ev, json::object(), [self, index, attempt] {
    send_credit_note_call(self, index, attempt, attempt > 1);
  });
}

void on_refund_result(saga_actor* self, const provider_result& r) {
  auto& st = self->state;
  if (st.expected_credit_note) {
    on_credit_note_result(self, r);
    return;
  }
  saga_event ev;
  ev.refund_id = std::exchange(st.expected_refund, {});
  ev.attempt = st.expected_attempt;
  st.expected.clear();
  if (r.outcome == provider_outcome::ok) {
    ev.type = saga_event_type::refund_succeeded;
    ev.ref = r.ref;
  } else {
    // Unknown outcomes are retried under the same key (the provider
    // deduplicates); a permanent refusal ends the refund as failed.
    ev.type = saga_event_type::refund_failed;
    ev.permanent = r.outcome == provider_outcome::permanent;
    ev.error = r.error;
  }
  journal_event(self, ev, json{{"msg_id", r.message_id}}, [self] {
    advance_saga(self);
  });
}

void on_cancel(saga_actor* self, const reply_ptr& out) {
  auto& st = self->state;
  auto status = st.logic.status();
  if (is_terminal(status)
      || st.logic.step(saga_step::create_shipment).status
           == step_status::done) {
    out->send(
      reply::fail(failure_code::order_not_cancellable,
                  "order " + st.id + " is " + std::string{to_string(status)}
                    + (is_terminal(status) ? "" : " and already shipped")));
    return;
  }
  auto accepted = [self, out] {
    out->send(reply::accepted(
      json{{"id", self->state.id}, {"status", "compensating"}}.dump()));
    advance_saga(self);
  };
  if (st.logic.cancel_requested()) {
    accepted();
    return;
  }
  saga_event ev;
  ev.type = saga_event_type::cancel_requested;
  journal_event(self, ev, json::object(), accepted);
}

void on_retry_compensation(saga_actor* self, const reply_ptr& out) {
  auto& st = self->state;
  if (st.logic.status() != saga_status::failed) {
    out->send(reply::fail(failure_code::order_not_failed,
                          "order " + st.id + " is "
                            + std::string{to_string(st.logic.status())}));
    return;
  }
  saga_event ev;
  ev.type = saga_event_type::compensation_retried;
  journal_event(self, ev, json::object(), [self, out] {
    out->send(reply::accepted(
      json{{"id", self->state.id}, {"status", "compensating"}}.dump()));
    advance_saga(self);
  });
}

void on_resolve(saga_actor* self, const std::string& note,
                const std::string& by, const reply_ptr& out) {
  auto& st = self->state;
  auto answer = [self, out] {
    auto& r = *self->state.logic.resolved();
    out->send(reply::done(json{{"id", self->state.id},
                               {"status", "failed"},
                               {"resolution", {{"note", r.note}, {"by", r.by}}}}
                            .dump()));
  };
  if (st.logic.status() != saga_status::failed) {
    out->send(reply::fail(failure_code::order_not_failed,
                          "order " + st.id + " is "
                            + std::string{to_string(st.logic.status())}));
    return;
  }
  if (st.logic.resolved()) {
    answer(); // resolved before: that resolution stands
    return;
  }
  saga_event ev;
  ev.type = saga_event_type::resolved;
  ev.reason = note;
  ev.key = by;
  journal_event(self, ev, json{{"reason", note}, {"by", by}}, answer);
}

void on_confirm(saga_actor* self, const std::string& details,
                const reply_ptr& out) {
  auto& st = self->state;
  if (st.logic.status() != saga_status::waiting) {
    out->send(reply::fail(failure_code::not_waiting,
                          "order " + st.id
                            + " is not waiting for a payment "
                              "confirmation"));
    return;
  }
  if (st.logic.charge_pending()) {
    out->send(
      reply::fail(failure_code::not_waiting,
                  "order " + st.id + "'s payment is pending at "
                    + payment_processor(st.order, st.logic)
                    + ", not waiting for the customer: the processor's webhook "
                      "settles it"));
    return;
  }
  st.three_ds_confirmed = true;
  st.three_ds_details = details;
  report_idle(self, false);
  saga_event ev;
  ev.type = saga_event_type::step_started;
  ev.step = saga_step::charge_payment;
  ev.attempt = st.logic.step(saga_step::charge_payment).attempts + 1;
  json extra{{"confirmed", true}};
  if (!details.empty()) // the route checked it is a JSON object
    extra["details"] = json::parse(details, nullptr, false);
  journal_event(self, ev, std::move(extra), [self, out, ev] {
    out->send(reply::accepted(
      json{{"id", self->state.id}, {"status", "running"}}.dump()));
    run_step(self, ev.step, ev.attempt);
  });
}

} // namespace kassa::saga_detail
