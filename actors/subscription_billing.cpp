// A subscription's billing steps (subscription.hpp): the logic says what
// comes next for the task at the front (subscription_logic.hpp); each step
// is journaled before the call it stands for, and the call's answer is
// journaled before the next step.

#include <caf/event_based_actor.hpp>

#include "actors/subscription_actor.hpp"
#include "actors/type_ids.hpp"
#include "runtime/clock.hpp"

namespace kassa::subscription_detail {

namespace {

const child_handle<provider_actor>& payment_target(const saga_targets& t,
                                                   const std::string& name) {
  if (name == "stripe" && t.stripe)
    return t.stripe;
  if (name == "adyen" && t.adyen)
    return t.adyen;
  return t.sandbox_payment;
}

const child_handle<provider_actor>& invoicing_target(const saga_targets& t,
                                                     const std::string& name) {
  if (name == "billingo" && t.billingo)
    return t.billingo;
  return t.sandbox_invoicing;
}

bool settled(provider_outcome o) {
  return o == provider_outcome::ok;
}

/// A refusal the customer must mend (a declined card, 3-D Secure asked
/// for a payment nobody is there to confirm).
bool refused(provider_outcome o) {
  return o == provider_outcome::permanent
         || o == provider_outcome::action_required;
}

std::string why(const provider_result& r) {
  return r.error.empty() ? std::string{"no answer"} : r.error;
}

provider_call base_call(const sub_actor* self, std::string op,
                        std::string key) {
  auto& t = self->state.logic.terms();
  provider_call c;
  c.op = std::move(op);
  c.idempotency_key = std::move(key);
  c.order_id = self->state.id;
  c.currency = t.terms.currency;
  c.token = self->state.logic.token();
  c.lines = {order_line{"plan:" + t.terms.id, 1}};
  c.detail = t.email.empty() ? t.customer : t.email;
  return c;
}

/// What every journal entry about `inv` names: its period and id, and the
/// plan change it prorates (if it does).
json about(const period_invoice& inv, const std::string& change) {
  json out{{"period", inv.period}, {"invoice", inv.id}};
  if (!change.empty())
    out["change"] = change;
  return out;
}

void issue_invoice(sub_actor* self, const period_invoice& inv,
                   const std::string& change) {
  auto& st = self->state;
  auto op = st.unsent_invoices.contains(inv.id) ? "invoice" : "find_invoice";
  auto c = base_call(self, op, inv.id + ":invoice");
  c.order_id = inv.id; // the invoice's reference: one per period
  c.amount_minor = inv.amount_minor;
  // Its first charge follows at once (in the same append as the number):
  // unless the subscription is paused or over, or a try was made before.
  auto status = st.logic.status();
  bool charge_next = inv.attempts.empty()
                     && status != subscription_status::paused
                     && status != subscription_status::canceled
                     && status != subscription_status::unpaid;
  call(
    self, invoicing_target(st.deps.targets, st.logic.terms().invoicing),
    std::move(c),
    [self, base = about(inv, change), charge_next](const provider_result& r) {
      auto& st = self->state;
      auto id = base["invoice"].get<std::string>();
      if (settled(r.outcome) && r.ref.empty()) {
        st.unsent_invoices.insert(id); // not there: issue it
        drive(self);
        return;
      }
      if (!settled(r.outcome)) {
        st.unsent_invoices.erase(id); // it may exist now
        fail_task(self, "invoicing: " + why(r));
        return;
      }
      auto data = base;
      data["ref"] = r.ref;
      std::vector<std::pair<std::string, json>> events{
        {"invoice.issued", std::move(data)}};
      if (charge_next) {
        auto started = base;
        started["attempt"] = 1;
        started["at_s"] = seconds_of(now_of(self));
        events.emplace_back("invoice.payment_started", std::move(started));
      }
      journal(self, std::move(events), [self] {
        drive(self);
      });
    });
}

void charge(sub_actor* self, const period_invoice& inv, uint32_t attempt,
            const std::string& change) {
  auto& st = self->state;
  auto c
    = base_call(self, "charge", inv.id + ":charge:" + std::to_string(attempt));
  c.order_id = inv.id;
  c.amount_minor = inv.amount_minor;
  auto period = inv.period;
  auto amount = inv.amount_minor;
  call(self, payment_target(st.deps.targets, st.logic.terms().processor),
       std::move(c),
       [self, period, attempt, amount, change,
        base = about(inv, change)](const provider_result& r) mutable {
         auto& st = self->state;
         base["attempt"] = attempt;
         if (settled(r.outcome)) {
           base["ref"] = r.ref;
           base["amount_minor"] = amount;
           base["status"] = to_string(st.logic.status_after_paid(period));
           journal(self, {{"invoice.paid", std::move(base)}}, [self] {
             drive(self);
           });
           return;
         }
         if (!refused(r.outcome)) {
           fail_task(self, "payment: " + why(r));
           return;
         }
         auto now = now_of(self);
         std::optional<billing_time> next_at;
         // A proration refused is not dunned: the change is off.
         auto status = change.empty() ? st.logic.status_after_failure(
                         period, attempt, st.deps.dunning, now, next_at)
                                      : st.logic.status();
         base["error"] = why(r);
         base["at_s"] = seconds_of(now);
         base["status"] = to_string(status);
         if (next_at) {
           base["next_s"] = seconds_of(*next_at);
           base["next_attempt_at"] = rfc3339(*next_at);
         }
         std::vector<std::pair<std::string, json>> events{
           {"invoice.payment_failed", std::move(base)}};
         if (!next_at && status == subscription_status::canceled)
           events.emplace_back("subscription.canceled",
                               json{{"reason", "payment_failed"},
                                    {"period", period},
                                    {"at_s", seconds_of(now)}});
         journal(self, std::move(events),
                 [self, period, attempt, next_at, now] {
                   if (!next_at) {
                     drive(self);
                     return;
                   }
                   schedule(self, period, attempt + 1, *next_at - now, [self] {
                     drive(self);
                   });
                 });
       });
}

void refund(sub_actor* self, const period_invoice& inv) {
  auto& st = self->state;
  auto c = base_call(self, "refund", inv.id + ":refund");
  c.order_id = inv.id;
  c.amount_minor = inv.refund_minor;
  c.ref = inv.charge_ref();
  auto period = inv.period;
  auto id = inv.id;
  auto amount = inv.refund_minor;
  call(self, payment_target(st.deps.targets, st.logic.terms().processor),
       std::move(c), [self, period, id, amount](const provider_result& r) {
         if (!settled(r.outcome)) {
           fail_task(self, "refund: " + why(r));
           return;
         }
         journal(self,
                 {{"invoice.refunded",
                   {{"period", period},
                    {"invoice", id},
                    {"amount_minor", amount},
                    {"ref", r.ref}}}},
                 [self] {
                   drive(self);
                 });
       });
}

/// What the customer is told about `about` (a notice per event): the
/// contact service's call detail (actors/contact.hpp), a template in the
/// customer's locale.
std::string notice_detail(const sub_actor* self, const std::string& about) {
  auto& s = self->state.logic;
  auto& t = s.terms();
  std::string name = "subscription_canceled";
  std::string period;
  if (about.rfind("paid:", 0) == 0) {
    name = "subscription_paid";
    period = about.substr(5);
  } else if (about.rfind("payment_failed:", 0) == 0) {
    name = "subscription_payment_failed";
    period = about.substr(15);
  }
  return json{{"channel", "email"},
              {"to", t.email},
              {"customer", t.customer},
              {"template", name},
              {"vars",
               {{"plan", t.terms.name},
                {"period", period},
                {"status", std::string{to_string(s.status())}}}}}
    .dump();
}

void notify(sub_actor* self, const std::string& about) {
  auto& st = self->state;
  auto c = base_call(self, "message", st.id + ":notify:" + about);
  c.detail = notice_detail(self, about);
  call(self, st.deps.targets.contact, std::move(c),
       [self, about](const provider_result& r) {
         if (!settled(r.outcome)) {
           fail_task(self, "messaging: " + why(r));
           return;
         }
         journal(self,
                 {{"customer.notified", {{"about", about}, {"ref", r.ref}}}},
                 [self] {
                   drive(self);
                 });
       });
}

} // namespace

void drive(sub_actor* self) {
  auto& st = self->state;
  if (st.tasks.empty())
    return;
  auto& task = st.tasks.front();
  auto a = st.logic.next(task.period, task.attempt, now_of(self));
  auto inv = [&]() -> const period_invoice& {
    if (!a.change.empty())
      return st.logic.change(a.change)->invoice;
    return st.logic.invoices().at(a.period);
  };
  switch (a.kind) {
    case billing_action::done:
      finish_task(self);
      return;
    case billing_action::skip_period:
      journal(
        self,
        {{"subscription.period_skipped",
          {{"period", a.period}, {"reason", to_string(st.logic.status())}}}},
        [self, period = a.period] {
          schedule_next_period(self, period, [self] {
            drive(self);
          });
        });
      return;
    case billing_action::cancel_at_end:
      journal(self,
              {{"subscription.canceled",
                {{"reason", "period_end"},
                 {"period", a.period},
                 {"status", "canceled"},
                 {"at_s", seconds_of(now_of(self))}}}},
              [self] {
                drive(self);
              });
      return;
    case billing_action::open_invoice:
      journal(self, {{"invoice.created", st.logic.open_invoice_data(a.period)}},
              [self, period = a.period] {
                self->state.unsent_invoices.insert(
                  invoice_id(self->state.id, period));
                schedule_next_period(self, period, [self] {
                  drive(self);
                });
              });
      return;
    case billing_action::issue_invoice:
      issue_invoice(self, inv(), a.change);
      return;
    case billing_action::apply_change: {
      auto& c = *st.logic.change(a.change);
      journal(
        self,
        {{"subscription.plan_changed",
          {{"change", c.id}, {"period", c.period}, {"plan", to_json(c.to)}}}},
        [self] {
          drive(self);
        });
      return;
    }
    case billing_action::start_charge: {
      auto data = about(inv(), a.change);
      data["attempt"] = a.attempt;
      data["at_s"] = seconds_of(now_of(self));
      journal(self, {{"invoice.payment_started", std::move(data)}}, [self] {
        drive(self);
      });
      return;
    }
    case billing_action::charge:
      charge(self, inv(), a.attempt, a.change);
      return;
    case billing_action::refund:
      refund(self, inv());
      return;
    case billing_action::notify:
      notify(self, a.about);
      return;
  }
}

} // namespace kassa::subscription_detail
