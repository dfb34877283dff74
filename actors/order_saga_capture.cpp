// Manual capture: the shop's capture and void of an authorized order, and
// the void of an authorization nobody captured in time
// (`orders.authorization_ttl_ms`). The steps themselves (capture_payment,
// the void as charge_payment's compensation) run like every other step.

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
  self->delayed_send(self, st.deps.capture_timeout, atom::timeout::value,
                     capture_timer_id(st));
}

void on_capture_timeout(saga_actor* self, const std::string& timer) {
  auto& st = self->state;
  if (!st.logic.awaiting_capture() || timer != capture_timer_id(st))
    return; // captured or voided meanwhile
  void_authorization(self,
                     json{{"void", true},
                          {"reason", "authorization_expired: not captured "
                                     "within orders.authorization_ttl_ms"}},
                     [] {});
}

void on_capture(saga_actor* self, int64_t amount, const reply_ptr& out) {
  auto& st = self->state;
  if (!st.logic.awaiting_capture()) {
    out->send(not_awaiting(st));
    return;
  }
  if (amount > st.order.total_minor) {
    out->send(reply::fail(failure_code::invalid_field,
                          "amount_minor is more than the "
                            + std::to_string(st.order.total_minor)
                            + " authorized",
                          "amount_minor"));
    return;
  }
  report_idle(self, false);
  saga_event ev;
  ev.type = saga_event_type::capture_requested;
  ev.amount_minor = amount;
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
    auto amount = st.logic.capture_amount() > 0 ? st.logic.capture_amount()
                                                : st.order.total_minor;
    out->send(reply::accepted(json{
      {"id", st.id},
      {"status", "running"},
      {"amount_minor", amount}}.dump()));
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

} // namespace kassa::saga_detail
