// The subscription actor (subscription.hpp): loads its journal, runs one
// task at a time — a job's billing task or a command — by asking the plain
// logic (subscription_logic.hpp) what comes next, journaling it, and then
// making the call it stands for; leaves when it has nothing to do.

#include "actors/subscription.hpp"

#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/subscription_actor.hpp"
#include "actors/type_ids.hpp"
#include "runtime/clock.hpp"
#include "runtime/database_health.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"

namespace kassa::subscription_detail {

billing_time now_of(const sub_actor* self) {
  return std::chrono::time_point_cast<std::chrono::seconds>(
    self->state.deps.clock->now());
}

int64_t seconds_of(billing_time t) {
  return t.time_since_epoch().count();
}

void finish_task(sub_actor* self, caf::error err) {
  auto& st = self->state;
  if (st.tasks.empty())
    return;
  auto task = std::move(st.tasks.front());
  st.tasks.pop_front();
  st.busy = false;
  if (!task.is_command) {
    if (err)
      task.done.deliver(std::move(err));
    else
      task.done.deliver(true);
  }
  pump(self);
}

void fail_task(sub_actor* self, const std::string& why) {
  auto& st = self->state;
  if (st.deps.log)
    st.deps.log->warn("subscription", "task not finished; its job runs again",
                      {{"subscription", st.id}, {"error", why}});
  finish_task(self, caf::make_error(errc::timeout, why));
}

void journal(sub_actor* self, std::vector<std::pair<std::string, json>> events,
             std::function<void()> then) {
  auto& st = self->state;
  auto next = st.logic;
  std::vector<journal_entry> entries;
  if (!st.unopened.is_null()) // the journal opens with its terms
    events.insert(events.begin(), {"subscription.created", st.unopened});
  for (auto& [type, data] : events) {
    auto before = next.status();
    if (!data.contains("status"))
      data["status"] = to_string(before);
    data["subscription"] = st.id;
    journal_entry e;
    e.stream = st.id;
    e.seq = st.seq + static_cast<int32_t>(entries.size()) + 1;
    e.type = type;
    if (data.contains("attempt"))
      e.attempt = data["attempt"].get<uint32_t>();
    e.data = data.dump();
    e.customer = next.created() ? next.terms().customer
                                : data.value("customer", std::string{});
    next.apply(e);
    if (next.status() != before || type == "subscription.created")
      e.status = std::string{to_string(next.status())};
    entries.push_back(std::move(e));
  }
  auto count = static_cast<int32_t>(entries.size());
  st.deps.journal
    .request(self, std::chrono::seconds(30), atom::append::value,
             std::move(entries))
    .then(
      [self, next = std::move(next), count, then](bool) mutable {
        auto& st = self->state;
        st.logic = std::move(next);
        st.seq += count;
        st.unopened = json{};
        then();
      },
      [self](caf::error& err) {
        // Unknown whether it committed: fail the task (its job runs
        // again) and replay the journal in the next incarnation (nothing
        // more starts here).
        self->state.loaded = false;
        fail_task(self, "journal: " + self->system().render(err));
        if (err == errc::not_owner) {
          self->quit(); // another node holds its shard: it runs there
          return;
        }
        self->quit(std::move(err));
      });
}

void call(sub_actor* self, const child_handle<provider_actor>& target,
          provider_call call,
          std::function<void(const provider_result&)> handle) {
  auto& st = self->state;
  call.message_id = call.idempotency_key + "#" + std::to_string(++st.calls);
  call.reply_to = caf::actor_cast<provider_result_sink>(self);
  st.expected = call.message_id;
  st.on_answer = std::move(handle);
  self->delayed_send(self, st.deps.call_timeout, atom::timeout::value,
                     st.expected);
  target.send(self, atom::call::value, std::move(call));
}

void schedule(sub_actor* self, uint64_t period, uint32_t attempt,
              std::chrono::seconds delay, std::function<void()> then,
              const std::string& tag) {
  auto ms = std::max<int64_t>(0, delay.count() * 1000);
  self->state.deps.scheduler
    .request(self, std::chrono::seconds(30), atom::schedule::value,
             subscription_job(self->state.id, period, attempt, ms, tag))
    .then(
      [then](bool) {
        then();
      },
      [self](caf::error& err) {
        fail_task(self, "scheduler: " + self->system().render(err));
      });
}

void schedule_next_period(sub_actor* self, uint64_t period,
                          std::function<void()> then) {
  auto& logic = self->state.logic;
  auto end = period_start(logic.terms().anchor, logic.cycle(), period + 1);
  schedule(self, period + 1, 1, end - now_of(self), std::move(then));
}

namespace {

void answer(sub_actor* self, const reply_ptr& out, reply r) {
  if (out)
    out->send(std::move(r));
  finish_task(self);
}

void refuse(sub_actor* self, const reply_ptr& out,
            const subscription_refusal& why) {
  answer(self, out, reply::fail(failure_code::subscription_state, why.message));
}

} // namespace

void run_command(sub_actor* self) {
  auto& st = self->state;
  auto task = st.tasks.front();
  auto& cmd = task.command;
  auto now = now_of(self);
  auto done = [self, out = task.out] {
    answer(
      self, out,
      reply::done(subscription_view(self->state.logic, now_of(self)).dump()));
  };
  using kind = subscription_command::kind_t;
  switch (cmd.kind) {
    case kind::pause:
      if (auto no = st.logic.can_pause(); !no.code.empty())
        return refuse(self, task.out, no);
      journal(self, {{"subscription.paused", {{"status", "paused"}}}}, done);
      return;
    case kind::resume:
      if (auto no = st.logic.can_resume(); !no.code.empty())
        return refuse(self, task.out, no);
      journal(self,
              {{"subscription.resumed",
                {{"status", to_string(st.logic.status_after_resume(now))}}}},
              done);
      return;
    case kind::payment_method:
      if (auto no = st.logic.can_cancel(); !no.code.empty())
        return refuse(self, task.out, no);
      journal(self,
              {{"subscription.payment_method_updated", {{"token", cmd.token}}}},
              done);
      return;
    case kind::change_plan: {
      std::optional<plan_change> change;
      auto no
        = st.logic.plan_change_for(cmd.to_plan, cmd.at_period_end, now, change);
      if (no.code == "invalid_field")
        return answer(
          self, task.out,
          reply::fail(failure_code::invalid_field, no.message, "plan"));
      if (!no.code.empty())
        return refuse(self, task.out, no);
      if (!change) // on it already, or the same change under way
        return done();
      // One asked for now is settled by its job (attempt 0): durable, and
      // retried like any task.
      journal(self, {{"subscription.plan_change_requested", to_json(*change)}},
              [self, done, c = *change] {
                self->state.unsent_invoices.insert(c.id);
                if (c.at_period_end)
                  return done();
                schedule(self, c.period, 0, std::chrono::seconds{0}, done,
                         c.id);
              });
      return;
    }
    case kind::cancel:
      break;
  }
  if (auto no = st.logic.can_cancel(); !no.code.empty())
    return refuse(self, task.out, no);
  if (cmd.at_period_end) {
    auto end = st.logic.period_at(now).end;
    if (now < st.logic.terms().anchor)
      end = st.logic.terms().anchor;
    journal(self,
            {{"subscription.cancel_scheduled",
              {{"at", rfc3339(end)}, {"at_s", seconds_of(end)}}}},
            done);
    return;
  }
  std::vector<std::pair<std::string, json>> events{
    {"subscription.canceled",
     {{"reason", "requested"},
      {"status", "canceled"},
      {"at_s", seconds_of(now)}}}};
  auto [period, amount] = st.logic.prorated_refund(now);
  if (cmd.prorated_refund && amount > 0)
    events.emplace_back("invoice.refund_requested",
                        json{{"period", period},
                             {"invoice", invoice_id(st.id, period)},
                             {"amount_minor", amount}});
  // The refund and the notice are the job's (attempt 0): durable, and
  // retried like any task.
  journal(self, std::move(events), [self, done, period = period] {
    schedule(self, period, 0, std::chrono::seconds{0}, done, "cancel");
  });
}

void pump(sub_actor* self) {
  auto& st = self->state;
  if (!st.loaded || st.busy)
    return;
  if (st.tasks.empty()) {
    // Nothing to do: ask to leave (the supervisor holds what comes next).
    st.deps.supervisor.send(self, atom::passivate::value, st.id, true);
    return;
  }
  st.busy = true;
  if (st.tasks.front().is_command)
    run_command(self);
  else
    drive(self);
}

} // namespace kassa::subscription_detail

namespace kassa {

namespace {

using namespace subscription_detail;

subscription_impl::behavior_type
subscription_behavior(sub_actor* self, std::string id, subscription_deps deps) {
  auto& st = self->state;
  st.id = std::move(id);
  st.deps = std::move(deps);
  st.deps.store->load(st.id, caf::actor_cast<caf::actor>(self));
  return {
    [self](atom::loaded, const std::string& terms_json,
           const std::vector<journal_entry>& entries) {
      auto& st = self->state;
      for (auto& e : entries) {
        st.logic.apply(e);
        st.seq = std::max(st.seq, e.seq);
      }
      if (st.logic.created()) {
        st.loaded = true;
        pump(self);
        return;
      }
      // The row's terms open the journal (the route wrote only the row
      // and the first job).
      auto data = json::parse(terms_json, nullptr, false);
      std::string error;
      auto terms = subscription_terms_from_json(data, error);
      if (!terms) {
        self->quit(caf::make_error(errc::invalid_job, error));
        return;
      }
      data["status"] = terms->anchor > terms->created ? "trialing" : "active";
      // Journaled with the first append (one commit less per new
      // subscription); the logic knows the terms meanwhile.
      journal_entry created;
      created.type = "subscription.created";
      created.data = data.dump();
      st.logic.apply(created);
      st.unopened = std::move(data);
      st.loaded = true;
      pump(self);
    },
    [self](caf::error& err) {
      auto& st = self->state;
      if (err == errc::unknown_child) {
        // No such subscription: answer everything waiting, and leave.
        for (auto& t : st.tasks) {
          if (t.is_command && t.out)
            t.out->send(reply::fail(failure_code::subscription_not_found,
                                    "no subscription " + st.id));
          else if (!t.is_command)
            t.done.deliver(false);
        }
        st.tasks.clear();
        self->quit();
        return;
      }
      self->quit(std::move(err)); // the supervisor starts it again
    },
    [self](const provider_result& r) {
      auto& st = self->state;
      if (r.message_id != st.expected || st.expected.empty())
        return; // late or repeated
      st.expected.clear();
      auto handle = std::move(st.on_answer);
      handle(r);
    },
    [self](atom::timeout, const std::string& message_id) {
      auto& st = self->state;
      if (message_id != st.expected || st.expected.empty())
        return;
      st.expected.clear();
      auto handle = std::move(st.on_answer);
      handle(provider_result{message_id,
                             provider_outcome::unknown,
                             {},
                             "timeout: no answer from provider",
                             0,
                             true});
    },
    [self](atom::run, uint64_t period,
           uint32_t attempt) -> caf::typed_response_promise<bool> {
      auto rp = self->make_response_promise<bool>();
      subscription_task t;
      t.period = period;
      t.attempt = attempt;
      t.done = rp;
      self->state.tasks.push_back(std::move(t));
      pump(self);
      return rp;
    },
    [self](atom::update, const subscription_command& cmd,
           const reply_ptr& out) {
      subscription_task t;
      t.is_command = true;
      t.command = cmd;
      t.out = out;
      self->state.tasks.push_back(std::move(t));
      pump(self);
    },
    [self](atom::passivate) {
      auto& st = self->state;
      if (st.tasks.empty() && !st.busy) {
        self->quit();
        return;
      }
      st.deps.supervisor.send(self, atom::passivate::value, st.id, false);
    },
  };
}
} // namespace

job_spec subscription_job(const std::string& id, uint64_t period,
                          uint32_t attempt, int64_t delay_ms,
                          const std::string& tag) {
  job_spec spec;
  spec.kind = subscription_job_kind;
  spec.key = std::string{subscription_job_kind} + ":" + id + ":"
             + std::to_string(period) + ":" + std::to_string(attempt)
             + (tag.empty() ? "" : ":" + tag);
  spec.payload
    = json{{"subscription", id}, {"period", period}, {"attempt", attempt}}
        .dump();
  spec.delay_ms = delay_ms;
  spec.owner_id = id;
  return spec;
}

child_spec subscription_spec(std::string id, subscription_deps deps) {
  auto name = id;
  return child_spec{std::move(name), [id, deps](caf::local_actor* parent) {
                      return caf::actor_cast<caf::actor>(
                        parent->spawn(subscription_behavior, id, deps));
                    }};
}

caf::actor
spawn_subscription_supervisor(caf::local_actor* parent, size_t max_active,
                              std::shared_ptr<const database_health> database,
                              const logger* log, metrics_registry* metrics) {
  supervisor_options opts{"subscriptions",
                          5,
                          std::chrono::seconds(60),
                          std::chrono::milliseconds(100),
                          std::chrono::seconds(5),
                          false,
                          max_active};
  if (database) {
    opts.pause_on = [database](const caf::error& reason) {
      return !database->up() || reason == errc::database_unavailable;
    };
    opts.resumable = [database] {
      return database->up();
    };
  }
  return spawn_supervisor(parent->system(), opts, {}, log, metrics);
}

} // namespace kassa
