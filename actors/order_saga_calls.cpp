// The order saga's calls to the outside: provider calls with their timer,
// the 3-D Secure deadline, the durable resume job, idle reports, and its
// way out (the passivation handshake with the sagas supervisor).

#include <nlohmann/json.hpp>

#include "actors/order_saga_actor.hpp"
#include "actors/type_ids.hpp"
#include "runtime/clock.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

const child_handle<provider_actor>&
saga_targets::at(const call_route& route) const {
  switch (route.receiver) {
    case call_receiver::inventory:
      return inventory[route.shard % inventory.size()];
    case call_receiver::sandbox_payment:
      return sandbox_payment;
    case call_receiver::stripe:
      return stripe;
    case call_receiver::adyen:
      return adyen;
    case call_receiver::sandbox_invoicing:
      return sandbox_invoicing;
    case call_receiver::billingo:
      return billingo;
    case call_receiver::sandbox_shipping:
      return sandbox_shipping;
    case call_receiver::contact:
      return contact;
  }
  return contact; // unreachable: every receiver is named above
}

} // namespace kassa

namespace kassa::saga_detail {

using json = nlohmann::json;

void report_idle(saga_actor* self, bool idle) {
  auto& st = self->state;
  if (st.idle == idle)
    return;
  st.idle = idle;
  st.deps.sagas.supervisor().send(self, atom::idle::value, st.id, idle);
}

std::string three_ds_timer_id(const order_saga_state& st) {
  return "3ds:" + st.id + ":"
         + std::to_string(st.logic.step(saga_step::charge_payment).attempts);
}

std::chrono::system_clock::time_point node_now(const order_saga_state& st) {
  return st.deps.clock ? st.deps.clock->now()
                       : std::chrono::system_clock::now();
}

bool wait_until(saga_actor* self, std::chrono::system_clock::time_point due,
                const std::string& id) {
  auto& st = self->state;
  auto left = due - node_now(st);
  if (left <= std::chrono::system_clock::duration::zero())
    return true;
  auto delay = std::chrono::duration_cast<caf::timespan>(left);
  if (st.deps.clock && st.deps.clock->movable())
    delay = std::min<caf::timespan>(delay, std::chrono::seconds(1));
  self->delayed_send(self, delay, atom::timeout::value, id);
  return false;
}

void arm_three_ds_timeout(saga_actor* self) {
  auto& st = self->state;
  st.three_ds_due = node_now(st) + st.deps.three_ds_timeout;
  wait_until(self, st.three_ds_due, three_ds_timer_id(st));
}

void on_waiting_timeout(saga_actor* self, const std::string& timer) {
  auto& st = self->state;
  if (st.logic.status() != saga_status::waiting
      || timer != three_ds_timer_id(st))
    return; // confirmed, settled or cancelled meanwhile
  if (!wait_until(self, st.three_ds_due, timer))
    return; // not yet (a test clock is looked at again)
  saga_event ev;
  ev.type = saga_event_type::step_failed;
  ev.step = saga_step::charge_payment;
  ev.attempt = st.logic.step(saga_step::charge_payment).attempts;
  ev.permanent = true;
  ev.maybe_exists = true; // it may complete there yet: reversed
  ev.error = st.logic.charge_pending()
               ? "pending_timeout: the processor did not settle the payment "
                 "in time"
               : "3ds_timeout: the customer did not complete 3-D Secure";
  journal_event(self, ev, json::object(), [self] {
    advance_saga(self);
  });
}

void arm_call_timer(saga_actor* self, caf::timespan delay) {
  auto& st = self->state;
  auto at = self->clock().now() + delay;
  if (st.timer_at && *st.timer_at <= at)
    return;
  st.timer_at = at;
  self->delayed_send(self, delay, atom::timeout::value,
                     std::string{call_timer_id});
}

void send_call(saga_actor* self, saga_step step, uint32_t attempt,
               bool compensation, const std::string& op_override) {
  auto& st = self->state;
  auto& target
    = st.deps.targets.at(call_target(st.order, st.logic, step, compensation));
  auto call
    = make_call(st.id, st.order, st.logic, step, attempt, compensation,
                st.three_ds_confirmed, op_override, provider_result_sink{self});
  if (!st.three_ds_details.empty() && call.detail == three_ds_confirmed)
    call.detail += ":" + st.three_ds_details;
  st.expected = call.message_id;
  st.expected_step = step;
  st.expected_attempt = attempt;
  st.expected_compensation = compensation;
  st.call_deadline = self->clock().now() + st.deps.call_timeout;
  arm_call_timer(self, st.deps.call_timeout);
  target.send(self, atom::call::value, std::move(call));
}

void schedule_resume(saga_actor* self, int64_t delay_ms, bool revive) {
  auto& st = self->state;
  auto step = st.logic.parked_step();
  bool comp = st.logic.parked_compensation();
  auto& s = st.logic.step(step);
  job_spec spec;
  spec.kind = "resume_saga";
  spec.key = "resume_saga:" + st.id + ":" + std::string{to_string(step)} + ":"
             + (comp ? "undo:" + std::to_string(s.comp_attempts)
                     : std::to_string(s.attempts));
  spec.payload = json{{"saga_id", st.id}, {"step", to_string(step)}}.dump();
  spec.delay_ms = delay_ms;
  spec.revive = revive;
  spec.owner_id = st.id;
  st.deps.scheduler
    .request(self, std::chrono::seconds(30), atom::schedule::value, spec)
    .then([](bool) {},
          [self, delay_ms, revive](caf::error& err) {
            auto& st = self->state;
            if (st.deps.log)
              st.deps.log->warn(
                "order_saga", "cannot schedule resume; retrying",
                {{"saga_id", st.id}, {"error", self->system().render(err)}});
            self->delayed_send(self, std::chrono::seconds(1),
                               atom::schedule::value, delay_ms, revive);
          });
}

void run_step(saga_actor* self, saga_step step, uint32_t attempt) {
  if (step == saga_step::create_invoice && attempt > 1)
    send_call(self, step, attempt, false, "find_invoice");
  else
    send_call(self, step, attempt, false);
}

// -- the way out --------------------------------------------------------------

bool finished(const order_saga_state& st) {
  return is_terminal(st.logic.status()) && st.deferred.empty() && !st.journaling
         && st.expected.empty() && st.logic.next().kind == saga_decision::idle;
}

void leave(saga_actor* self) {
  auto& st = self->state;
  if (!st.deps.sagas) {
    self->quit(); // unsupervised (tests)
    return;
  }
  if (st.leaving)
    return;
  st.leaving = true;
  st.deps.sagas.supervisor().send(self, atom::passivate::value, st.id, true);
}

void quit_if_finished(saga_actor* self) {
  if (finished(self->state))
    leave(self);
}

bool is_finish(const saga_decision& d) {
  return d.kind == saga_decision::finish_completed
         || d.kind == saga_decision::finish_cancelled
         || d.kind == saga_decision::finish_failed;
}

/// The terminal event of a finish decision (counted in the metrics).
saga_event finish_event(saga_actor* self, const saga_decision& d) {
  auto& st = self->state;
  saga_event ev;
  ev.type
    = d.kind == saga_decision::finish_completed   ? saga_event_type::completed
      : d.kind == saga_decision::finish_cancelled ? saga_event_type::cancelled
                                                  : saga_event_type::failed;
  if (st.deps.metrics)
    st.deps.metrics
      ->get_counter("kassa_sagas_finished_total",
                    "Sagas that reached a terminal state.",
                    {{"status", std::string{to_string(ev.type)}}})
      .inc();
  return ev;
}

} // namespace kassa::saga_detail
