// A processor's notices to an order's saga, after the fact: a dispute of
// its payment (journaled, the message id in the same row), the outcome of a
// payment it had left pending or waiting for the shopper (settles the
// charge step: succeeded, or refused for good), and the failure of a
// capture or refund it had acknowledged (recorded on it).

#include <algorithm>
#include <string_view>

#include <caf/mailbox_element.hpp>
#include <nlohmann/json.hpp>

#include "actors/disputes.hpp"
#include "actors/order_saga_actor.hpp"

namespace kassa::saga_detail {

using json = nlohmann::json;

namespace {

/// What a processor's notice did to the order (`recorded`, `duplicate`, ...).
reply notice_reply(const order_saga_state& st, std::string_view result) {
  return reply::done(json{{"result", result}, {"order_id", st.id}}.dump());
}

} // namespace

void on_dispute(saga_actor* self, const dispute_notice& notice,
                const reply_ptr& out) {
  auto& st = self->state;
  auto answer = [self](const char* result, const std::string& dispute_id) {
    auto& st = self->state;
    json body{{"result", result}, {"order_id", st.id}};
    for (auto& d : st.logic.disputes())
      if (d.id == dispute_id)
        body["dispute"] = dispute_json(d);
    return reply::done(body.dump());
  };
  if (auto problem = check_dispute_notice(notice); !problem.empty()) {
    out->send(reply::fail(failure_code::invalid_field, problem));
    return;
  }
  // The journal holds every notice's message id: the processor's repeat
  // (it did not see our answer) is recognised here, in the saga that
  // journaled the first — the record and the change are one append.
  if (st.logic.knows_dispute_message(notice.message_id)) {
    out->send(answer("duplicate", notice.dispute_id));
    return;
  }
  saga_event ev;
  ev.type = *dispute_event_type(notice.change);
  ev.dispute = std::make_shared<const dispute_state>(
    dispute_after(st.logic.disputes(), notice));
  journal_event(self, ev, json::object(),
                [self, out, answer, id = notice.dispute_id] {
                  out->send(answer("recorded", id));
                  advance_saga(self);
                });
}

namespace {

/// A capture or refund the processor had acknowledged failed after all: the
/// capture (or refund) that names `notice.ref` is journaled as failed.
void on_modification_failed(saga_actor* self, const payment_notice& notice,
                            const reply_ptr& out) {
  auto& st = self->state;
  auto answer = [self, out](const char* result) {
    out->send(notice_reply(self->state, result));
  };
  auto why = notice.processor + " reported the " + notice.kind + " failed"
             + (notice.reason.empty() ? "" : ": " + notice.reason);
  saga_event ev;
  if (notice.kind == "capture") {
    auto& captures = st.logic.captures();
    auto c = std::find_if(captures.begin(), captures.end(), [&](auto& c) {
      return c.ref == notice.ref;
    });
    if (c == captures.end()) {
      answer("not_found");
      return;
    }
    if (c->status != capture_state::status_t::succeeded) {
      answer("duplicate");
      return;
    }
    ev.type = saga_event_type::capture_failed;
    ev.step = saga_step::capture_payment;
    ev.ref = notice.ref;
  } else {
    auto& refunds = st.logic.refunds();
    auto r = std::find_if(refunds.begin(), refunds.end(), [&](auto& r) {
      return r.ref == notice.ref;
    });
    if (r == refunds.end()) {
      answer("not_found");
      return;
    }
    if (r->status != refund_state::status_t::succeeded) {
      answer("duplicate");
      return;
    }
    ev.type = saga_event_type::refund_failed;
    ev.refund_id = r->id;
    ev.attempt = r->attempts;
    ev.permanent = true;
  }
  ev.error = why;
  journal_event(self, ev, json{{"msg_id", notice.message_id}}, [self, out] {
    out->send(notice_reply(self->state, "recorded"));
    advance_saga(self);
  });
}

/// A refund made at the processor (its dashboard, say) — or one of kassa's
/// own, which is recognised — is recorded on the order: refunded and
/// succeeded in one append, then credited like any refund.
void on_refunded(saga_actor* self, const payment_notice& notice,
                 const reply_ptr& out) {
  auto& st = self->state;
  auto answer = [self, out](const char* result) {
    out->send(notice_reply(self->state, result));
  };
  auto& refunds = st.logic.refunds();
  if (std::any_of(refunds.begin(), refunds.end(), [](auto& r) {
        return r.status == refund_state::status_t::pending
               || r.status == refund_state::status_t::running;
      })) {
    // One of kassa's own is under way: its answer comes first and names
    // it, so the notice is then recognised (it is handled after the
    // journal's next write).
    st.deferred.push_back(
      self->current_mailbox_element()->copy_content_to_message());
    return;
  }
  auto status = st.logic.status(); // refunding: a credit note under way
  if (status != saga_status::completed && status != saga_status::refunding) {
    answer("ignored"); // a cancelled order's refunds were its compensation
    return;
  }
  int64_t amount = notice.amount_minor;
  if (notice.kind == "refunded") {
    if (std::any_of(refunds.begin(), refunds.end(), [&](auto& r) {
          return r.ref == notice.ref;
        })) {
      answer("duplicate");
      return;
    }
  } else { // refunded_total: what no refund known here accounts for
    for (auto& r : refunds)
      if (r.status == refund_state::status_t::succeeded)
        amount -= r.amount_minor;
  }
  if (amount <= 0) {
    answer("duplicate");
    return;
  }
  saga_event asked;
  asked.type = saga_event_type::refund_requested;
  asked.key = notice.processor + ":" + notice.message_id;
  asked.refund_id = refund_id(st.id, asked.key);
  asked.amount_minor = amount;
  asked.reason = "refunded at " + notice.processor;
  saga_event done;
  done.type = saga_event_type::refund_succeeded;
  done.refund_id = asked.refund_id;
  done.ref = notice.kind == "refunded" ? notice.ref : notice.message_id;
  std::vector<std::pair<saga_event, json>> events;
  events.emplace_back(std::move(asked), json::object());
  events.emplace_back(std::move(done), json{{"msg_id", notice.message_id}});
  journal_events(self, std::move(events), [self, out] {
    out->send(notice_reply(self->state, "recorded"));
    advance_saga(self);
  });
}

} // namespace

void on_settle(saga_actor* self, const payment_notice& notice,
               const reply_ptr& out) {
  auto& st = self->state;
  auto answer = [self, out](const char* result) {
    out->send(notice_reply(self->state, result));
  };
  if (notice.kind == "refunded" || notice.kind == "refunded_total") {
    on_refunded(self, notice, out);
    return;
  }
  if (notice.kind != "authorisation") {
    on_modification_failed(self, notice, out);
    return;
  }
  auto& charge = st.logic.step(saga_step::charge_payment);
  if (charge.ref == notice.ref && !charge.ref.empty()) {
    answer("duplicate"); // settled before: this message, or the call
    return;
  }
  // The sandbox has no webhooks of its own: any processor's stand in for
  // them (the tests' and a demo's way to finish a sandbox order).
  auto& held = st.logic.held_charge_ref();
  auto processor = payment_processor(st.order, st.logic);
  if (st.logic.status() != saga_status::waiting
      || (notice.processor != processor && processor != "sandbox")
      || (!held.empty() && held != notice.ref)) {
    answer("not_waiting");
    return;
  }
  report_idle(self, false);
  saga_event ev;
  ev.step = saga_step::charge_payment;
  ev.attempt = charge.attempts;
  if (notice.success) {
    ev.type = saga_event_type::step_succeeded;
    ev.ref = notice.ref;
  } else {
    ev.type = saga_event_type::step_failed;
    ev.permanent = true; // refused: nothing held there (no reversal)
    ev.error = notice.processor + " refused the payment"
               + (notice.reason.empty() ? "" : ": " + notice.reason);
  }
  journal_event(self, ev, json{{"msg_id", notice.message_id}},
                [self, out, authorised = notice.success] {
                  out->send(notice_reply(self->state, authorised ? "authorised"
                                                                 : "refused"));
                  advance_saga(self);
                });
}

} // namespace kassa::saga_detail
