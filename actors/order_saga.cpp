// The order saga's behaviour: load and replay, journal-before-effect, the
// answers to its calls and its timers. About 580 lines: the decisions are
// in order_saga_logic (plain code, unit-tested), the calls out and the
// way out (the passivation handshake) in order_saga_calls.cpp, the
// commands from outside in order_saga_commands.cpp, the records in
// order_saga_records; what stays is the one behaviour and the journaling
// it does on its hot path (templates, so no std::function per append).

#include "actors/order_saga.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/inventory.hpp"
#include "actors/order_saga_actor.hpp"
#include "actors/order_saga_records.hpp"
#include "actors/type_ids.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;
using namespace saga_detail;

void advance(saga_actor* self);

/// Re-sends to itself the commands that arrived while it was busy.
void run_deferred(saga_actor* self) {
  auto& st = self->state;
  while (!st.journaling && !st.deferred.empty()) {
    auto msg = std::move(st.deferred.front());
    st.deferred.pop_front();
    send_on_worker(self, caf::actor_cast<caf::actor>(self), std::move(msg));
  }
}

// -- journaling ---------------------------------------------------------------

/// Journals `events` in one append (one transaction) and applies them once
/// committed, then runs `then`. Nothing is sent to the outside before the
/// journal says it is durable.
template <class Then>
void journal_all(saga_actor* self,
                 std::vector<std::pair<saga_event, json>> events, Then then) {
  auto& st = self->state;
  st.journaling = true;
  st.journal_deadline = self->clock().now() + journal_timeout;
  // Armed for the call that usually follows the append within milliseconds,
  // not for the append's own (later) deadline: that call then finds a timer
  // early enough and pushes nothing more to CAF's clock — one timer per
  // saga instead of two (each push may wake the clock's thread).
  arm_call_timer(
    self, std::min<caf::timespan>(journal_timeout, st.deps.call_timeout));
  if (st.seq == 0) {
    // The order's first append opens its journal with `order.created` (the
    // intake wrote only the `sagas` row: the log's counter is the journal
    // writer's alone).
    saga_event created;
    created.type = saga_event_type::created;
    events.insert(events.begin(),
                  {created, json{{"total_minor", st.order.total_minor},
                                 {"currency", st.order.currency}}});
  }
  auto next = st.logic;
  std::vector<journal_entry> entries;
  entries.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    auto before = next.status();
    next.apply(events[i].first);
    entries.push_back(make_entry(st.id, st.order, next, events[i].first,
                                 std::move(events[i].second),
                                 st.seq + static_cast<int32_t>(i) + 1));
    // The `sagas` row changes only with the status (its data keeps it).
    if (next.status() == before)
      entries.back().status.clear();
    else
      entries.back().payment_ref = next.step(saga_step::charge_payment).ref;
  }
  auto count = static_cast<int32_t>(entries.size());
  st.deps.journal
    .request(self, caf::infinite, atom::append::value, std::move(entries))
    .then(
      [self, next = std::move(next), count, then](bool) mutable {
        auto& st = self->state;
        st.logic = std::move(next);
        st.seq += count;
        st.journaling = false;
        then();
        run_deferred(self); // commands that waited for this write
      },
      [self](caf::error& err) {
        auto& owned = self->state.deps.ownership;
        if (err == errc::not_owner && owned && !owned->holds(self->state.id)) {
          // Its shard is another node's now: that node resumes it.
          self->quit();
          return;
        }
        // Unknown whether it committed (or refused under a fence that has
        // moved on while the shard is still held): restart and replay
        // from the journal.
        self->quit(std::move(err));
      });
}

template <class Then>
void journal(saga_actor* self, saga_event ev, json extra, Then then) {
  std::vector<std::pair<saga_event, json>> one;
  one.emplace_back(std::move(ev), std::move(extra));
  journal_all(self, std::move(one), std::move(then));
}

// -- calls
// ----------------------------------------------------------------------

void on_result(saga_actor* self, const provider_result& r) {
  auto& st = self->state;
  if (!st.expected_refund.empty()) {
    on_refund_result(self, r);
    return;
  }
  auto step = st.expected_step;
  auto attempt = st.expected_attempt;
  auto compensation = st.expected_compensation;
  bool lookup
    = r.message_id.size() > 13
      && r.message_id.compare(r.message_id.size() - 13, 13, ":find_invoice")
           == 0;
  st.expected.clear();
  saga_event ev;
  ev.step = step;
  ev.attempt = attempt;
  if (lookup && r.outcome == provider_outcome::ok && r.ref.empty()) {
    send_call(self, step, attempt, false); // not issued yet: issue it now
    return;
  }
  switch (r.outcome) {
    case provider_outcome::ok:
      ev.type = compensation ? saga_event_type::compensation_succeeded
                             : saga_event_type::step_succeeded;
      ev.ref = r.ref;
      break;
    case provider_outcome::unavailable:
      ev.type = saga_event_type::parked;
      ev.error = r.error;
      // The connection's own retry may have been taken before its circuit
      // opened: the charge stays with this processor.
      ev.maybe_exists = step == saga_step::charge_payment && r.maybe_sent;
      break;
    case provider_outcome::transient:
    case provider_outcome::unknown:
    case provider_outcome::permanent:
      ev.type = compensation ? saga_event_type::compensation_failed
                             : saga_event_type::step_failed;
      ev.permanent = r.outcome == provider_outcome::permanent;
      ev.maybe_exists = step == saga_step::charge_payment
                        && (r.outcome == provider_outcome::unknown
                            || !r.ref.empty() || r.maybe_sent);
      ev.error = r.error;
      break;
    case provider_outcome::action_required:
    case provider_outcome::pending:
      ev.type = saga_event_type::waiting;
      ev.error = r.error;
      ev.ref = r.ref; // what a reversal names, should it come to that
      ev.pending = r.outcome == provider_outcome::pending;
      break;
  }
  if (ev.type == saga_event_type::compensation_succeeded)
    ev.ref = st.logic.step(step).ref; // keep the effect's own reference
  if (!compensation)
    if (auto next = reroute_payment(st.order, st.logic, step, r)) {
      ev = saga_event{};
      ev.type = saga_event_type::payment_rerouted;
      ev.step = step;
      ev.ref = std::move(*next);
      ev.error = r.error;
    }
  bool waiting = ev.type == saga_event_type::waiting;
  bool parked = ev.type == saga_event_type::parked;
  auto retry_after = r.retry_after_ms;
  // The id of the answer goes into the same journal row as its effect on
  // the saga: a redelivered answer is recognisable after any crash.
  json extra{{"msg_id", r.message_id}};
  // When the next step can start at once, its start goes into the same
  // append: one commit instead of two per step; so does the terminal event
  // after the last step.
  auto after = st.logic;
  after.apply(ev);
  auto d = after.next();
  if (is_finish(d) && !st.journaling) {
    std::vector<std::pair<saga_event, json>> both;
    both.emplace_back(std::move(ev), std::move(extra));
    both.emplace_back(finish_event(self, d), json::object());
    journal_all(self, std::move(both), [self] {
      advance(self);
    });
    return;
  }
  bool chain = (d.kind == saga_decision::run_step
                || d.kind == saga_decision::run_compensation)
               && d.delay.count() == 0 && !st.journaling;
  if (chain) {
    bool comp = d.kind == saga_decision::run_compensation;
    saga_event started;
    started.type = comp ? saga_event_type::compensation_started
                        : saga_event_type::step_started;
    started.step = d.step;
    started.attempt = d.attempt;
    std::vector<std::pair<saga_event, json>> both;
    both.emplace_back(std::move(ev), std::move(extra));
    both.emplace_back(started, json::object());
    journal_all(self, std::move(both), [self, d, comp] {
      if (comp)
        send_call(self, d.step, d.attempt, true);
      else
        run_step(self, d.step, d.attempt);
    });
    return;
  }
  journal(self, std::move(ev), std::move(extra),
          [self, waiting, parked, retry_after] {
            if (waiting)
              arm_three_ds_timeout(self);
            if (parked)
              schedule_resume(self, retry_after, false);
            bool authorized = self->state.logic.awaiting_capture();
            if (authorized)
              arm_capture_timeout(self);
            if (waiting || parked || authorized)
              report_idle(self, true);
            advance(self);
          });
}

// -- the state machine
// ----------------------------------------------------------

void advance(saga_actor* self) {
  auto& st = self->state;
  if (st.journaling || !st.expected.empty())
    return;
  auto d = st.logic.next();
  switch (d.kind) {
    case saga_decision::idle:
      // Normal exit: the supervisor forgets this saga. Not while commands
      // wait to be handled (a refund for a finished order starts it).
      if (is_terminal(st.logic.status()) && st.deferred.empty())
        leave(self);
      return;
    case saga_decision::run_refund:
    case saga_decision::run_credit_note: {
      // The retry key of a refund (or its credit note): its index apart
      // from the steps'.
      auto key
        = std::make_tuple(static_cast<int>(d.kind), d.step,
                          static_cast<uint32_t>(d.refund * 1000) + d.attempt);
      if (d.delay.count() > 0 && st.waited != key) {
        self->delayed_send(self, d.delay, atom::retry::value,
                           static_cast<int>(d.kind), d.step, std::get<2>(key));
        return;
      }
      st.waited.reset();
      if (d.kind == saga_decision::run_refund)
        run_refund(self, d.refund, d.attempt);
      else
        run_credit_note(self, d.refund, d.attempt);
      return;
    }
    case saga_decision::run_step:
    case saga_decision::run_compensation: {
      auto key = std::make_tuple(static_cast<int>(d.kind), d.step, d.attempt);
      if (d.delay.count() > 0 && st.waited != key) {
        self->delayed_send(self, d.delay, atom::retry::value,
                           static_cast<int>(d.kind), d.step, d.attempt);
        return;
      }
      st.waited.reset();
      report_idle(self, false); // e.g. compensating after a 3-D Secure wait
      saga_event ev;
      bool compensation = d.kind == saga_decision::run_compensation;
      ev.type = compensation ? saga_event_type::compensation_started
                             : saga_event_type::step_started;
      ev.step = d.step;
      ev.attempt = d.attempt;
      journal(self, ev, json::object(), [self, d, compensation] {
        if (compensation)
          send_call(self, d.step, d.attempt, true);
        else
          run_step(self, d.step, d.attempt);
      });
      return;
    }
    case saga_decision::finish_completed:
    case saga_decision::finish_cancelled:
    case saga_decision::finish_failed: {
      auto ev = finish_event(self, d);
      journal(self, ev, json::object(), [self] {
        advance(self);
      });
      return;
    }
  }
}

saga_impl::behavior_type
order_saga(saga_actor* self, std::string id, order_saga_deps deps,
           const std::shared_ptr<const order_data>& created) {
  auto& st = self->state;
  st.id = std::move(id);
  st.deps = std::move(deps);
  st.logic = saga_state{st.deps.policy};
  if (!created) {
    st.deps.store->load(st.id, caf::actor_cast<caf::actor>(self));
  } else {
    // Just created: its journal is empty (see journal_all), its order is
    // known (an empty request in `loaded` says so; a stored one never is).
    st.order = *created;
    self->send(self, atom::loaded::value, std::string{},
               std::vector<journal_entry>{});
  }
  auto defer_while_busy = [self]() -> bool {
    auto& st = self->state;
    if (!st.loaded || st.journaling) {
      st.deferred.push_back(
        self->current_mailbox_element()->copy_content_to_message());
      return true;
    }
    return false;
  };
  return {
    [self](atom::loaded, const std::string& request,
           const std::vector<journal_entry>& events) {
      auto& st = self->state;
      if (!request.empty())
        st.order = parse_order(request);
      st.logic = saga_state{st.deps.policy, st.order.manual_capture};
      if (st.deps.crash_switch && st.deps.crash_switch->load()
          && st.order.customer_id.rfind("crash", 0) == 0)
        throw std::runtime_error("fault switch: saga_crash");
      for (auto& e : events) {
        st.logic.apply(event_of(e));
        st.seq = std::max(st.seq, e.seq);
        if (confirms_three_ds(e, st.three_ds_details))
          st.three_ds_confirmed = true;
      }
      st.loaded = true;
      if (st.logic.parked())
        schedule_resume(self, 0, true); // the job may have run and not taken
      else if (st.logic.status() == saga_status::waiting)
        arm_three_ds_timeout(self); // a full period again after a restart
      if (st.logic.awaiting_capture())
        arm_capture_timeout(self); // a full period again after a restart
      if (st.logic.status() == saga_status::waiting
          || st.logic.awaiting_capture())
        report_idle(self, true);
      if (st.deps.log && !events.empty())
        st.deps.log->info(
          "order_saga", "resumed from journal",
          {{"saga_id", st.id},
           {"events", std::to_string(events.size())},
           {"status", std::string{to_string(st.logic.status())}}});
      advance(self);
      run_deferred(self);
    },
    [self](caf::error& err) {
      // The store could not load this saga: crash, the supervisor retries.
      self->quit(std::move(err));
    },
    [self, defer_while_busy](const provider_result& r) {
      auto& st = self->state;
      if (r.message_id != st.expected || st.expected.empty()) {
        if (st.deps.log)
          st.deps.log->debug("order_saga", "stale or duplicate reply ignored",
                             {{"saga_id", st.id}, {"msg_id", r.message_id}});
        return;
      }
      // A command's append (a cancel, a dispute notice) may be in flight:
      // one append at a time, or both would claim the same journal seq.
      if (defer_while_busy())
        return;
      on_result(self, r);
    },
    [self, defer_while_busy](atom::timeout, const std::string& timer) {
      auto& st = self->state;
      auto message_id = timer;
      if (timer == call_timer_id) {
        auto now = self->clock().now();
        if (st.timer_at && now >= *st.timer_at)
          st.timer_at.reset(); // the earliest one (a later one may follow)
        if (st.journaling && now >= st.journal_deadline) {
          // Unknown whether it committed: restart and replay the journal.
          self->quit(caf::make_error(errc::timeout,
                                     "the journal did not answer an append"));
          return;
        }
        if (st.expected.empty() || now < st.call_deadline) {
          // Nothing due yet: wait for the next deadline, if any (the
          // next call or append arms the timer again).
          auto next = st.journaling ? st.journal_deadline : st.call_deadline;
          if (!st.expected.empty() && st.journaling)
            next = std::min(st.call_deadline, st.journal_deadline);
          if (!st.expected.empty() || st.journaling)
            arm_call_timer(self, next - now);
          return;
        }
        message_id = st.expected;
      }
      if (message_id.rfind("capture:", 0) == 0) {
        if (defer_while_busy())
          return;
        on_capture_timeout(self, message_id);
        return;
      }
      if (message_id.rfind("3ds:", 0) == 0) {
        if (defer_while_busy())
          return;
        on_waiting_timeout(self, message_id);
        return;
      }
      if (message_id != st.expected)
        return;
      // Still in flight, perhaps taken: `maybe_sent`, so a payment stays
      // with its processor (failover) and the retry uses the same key.
      on_result(self, provider_result{message_id,
                                      provider_outcome::transient,
                                      {},
                                      "timeout: no answer from provider",
                                      0,
                                      true});
    },
    [self](atom::schedule, int64_t delay_ms, bool revive) {
      if (self->state.logic.parked())
        schedule_resume(self, delay_ms, revive);
    },
    [self, defer_while_busy](atom::resume) {
      // A durable job: the parked step's provider may be back.
      if (defer_while_busy())
        return;
      auto& st = self->state;
      auto d = st.logic.resume_parked();
      if (!d || !st.expected.empty())
        return; // not parked (any more)
      report_idle(self, false);
      bool comp = d->kind == saga_decision::run_compensation;
      if (d->kind != saga_decision::run_step && !comp) {
        advance(self);
        return;
      }
      saga_event ev;
      ev.type = comp ? saga_event_type::compensation_started
                     : saga_event_type::step_started;
      ev.step = d->step;
      ev.attempt = d->attempt;
      journal(self, ev, json{{"resumed", true}}, [self, d = *d, comp] {
        if (comp)
          send_call(self, d.step, d.attempt, true);
        else
          run_step(self, d.step, d.attempt);
      });
    },
    [self](atom::passivate) {
      // The supervisor holds what comes for this saga from now on, and
      // everything it delivered before is handled.
      auto& st = self->state;
      st.leaving = false;
      if (finished(st)) {
        self->quit();
        return;
      }
      st.deps.sagas.supervisor().send(self, atom::passivate::value, st.id,
                                      false);
    },
    [self](atom::retry, int kind, saga_step step, uint32_t attempt) {
      self->state.waited = std::make_tuple(kind, step, attempt);
      advance(self);
    },
    [self, defer_while_busy](atom::cancel, const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_cancel(self, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::capture, int64_t amount,
                             const std::string& key, bool final,
                             const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_capture(self, amount, key, final, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::void_auth, const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_void(self, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::refund, int64_t amount,
                             const std::string& key, const std::string& reason,
                             const std::vector<order_line>& lines,
                             const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_refund(self, amount, key, reason, lines, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::dispute, const dispute_notice& notice,
                             const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_dispute(self, notice, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::settle, const payment_notice& notice,
                             const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_settle(self, notice, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::retry_comp, const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_retry_compensation(self, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::resolve, const std::string& note,
                             const std::string& by, const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_resolve(self, note, by, out);
      quit_if_finished(self);
    },
    [self, defer_while_busy](atom::confirm, const std::string& details,
                             const reply_ptr& out) {
      if (defer_while_busy())
        return;
      on_confirm(self, details, out);
      quit_if_finished(self);
    },
  };
}

} // namespace

namespace saga_detail {

void journal_event(saga_actor* self, saga_event ev, json extra,
                   std::function<void()> then) {
  journal(self, std::move(ev), std::move(extra), std::move(then));
}

void journal_events(saga_actor* self,
                    std::vector<std::pair<saga_event, json>> events,
                    std::function<void()> then) {
  journal_all(self, std::move(events), std::move(then));
}

void advance_saga(saga_actor* self) {
  advance(self);
}

} // namespace saga_detail

caf::actor spawn_order_saga(caf::local_actor* parent, std::string order_id,
                            const order_saga_deps& deps,
                            std::shared_ptr<const order_data> created) {
  return caf::actor_cast<caf::actor>(
    parent->spawn(order_saga, std::move(order_id), deps, std::move(created)));
}

} // namespace kassa
