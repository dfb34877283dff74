#include "runtime/scheduler.hpp"

#include <random>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/errc.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/type_ids.hpp"

namespace kassa {

job_outcome job_failure_outcome(const scheduler_options& options,
                                int32_t attempts, std::string error,
                                double unit) {
  job_outcome out;
  out.error = std::move(error);
  if (attempts >= static_cast<int32_t>(options.max_attempts)) {
    out.kind = job_outcome::dead;
    return out;
  }
  out.kind = job_outcome::retry;
  // At least the poll interval, so a failing job does not spin.
  auto d
    = full_jitter_delay(options.retry_initial, options.retry_max,
                        static_cast<uint32_t>(std::max(attempts - 1, 0)), unit);
  out.delay = std::max(d, options.poll_interval);
  return out;
}

namespace {

struct scheduler_state {
  static inline const char* name = "scheduler";
  std::shared_ptr<job_store> store;
  scheduler_options options;
  const logger* log = nullptr;
  std::minstd_rand rng{std::random_device{}()};
  int running = 0;
  bool leasing = false;
  /// The last lease came back full: more may be due, so a finished job's
  /// slot is filled at once, not at the next tick (a wave of jobs due
  /// together runs at the store's pace, not at batch per poll interval).
  bool more_due = false;
  counter* done_metric = nullptr;
  counter* retried_metric = nullptr;
  counter* dead_metric = nullptr;
};

using scheduler_self = caf::stateful_actor<scheduler_state>;

void poll(scheduler_self* self);

void finish(scheduler_self* self, const job& j, job_outcome outcome) {
  auto& st = self->state;
  --st.running;
  auto* metric = outcome.kind == job_outcome::done    ? st.done_metric
                 : outcome.kind == job_outcome::retry ? st.retried_metric
                                                      : st.dead_metric;
  if (metric)
    metric->inc();
  if (st.log && outcome.kind != job_outcome::done)
    st.log->log(
      outcome.kind == job_outcome::dead ? log_level::error : log_level::warn,
      "scheduler",
      outcome.kind == job_outcome::dead ? "job is dead" : "job retried later",
      {{"job_id", std::to_string(j.id)},
       {"kind", j.kind},
       {"attempts", std::to_string(j.attempts)},
       {"error", outcome.error}});
  st.store->finish(j.id, std::move(outcome));
  if (st.more_due && st.running <= st.options.max_running / 2)
    poll(self);
}

void run_job(scheduler_self* self, const job& j) {
  auto& st = self->state;
  ++st.running;
  auto handler = st.options.handlers.find(j.kind);
  if (handler == st.options.handlers.end()) {
    finish(self, j,
           job_outcome{job_outcome::dead, millis{0},
                       "no handler for job kind " + j.kind});
    return;
  }
  // Less than the lease, so the answer arrives before another scheduler may
  // take the job over.
  auto timeout = st.options.lease_for * 3 / 4;
  handler->second.request(self, timeout, atom::run::value, j)
    .then(
      [self, j](bool) {
        finish(self, j, job_outcome{job_outcome::done, millis{0}, {}});
      },
      [self, j](caf::error& err) {
        auto& st = self->state;
        std::uniform_real_distribution<double> unit{0.0, 1.0};
        finish(self, j,
               job_failure_outcome(st.options, j.attempts,
                                   self->system().render(err), unit(st.rng)));
      });
}

void poll(scheduler_self* self) {
  auto& st = self->state;
  auto room = st.options.max_running - st.running;
  if (st.leasing || room <= 0)
    return;
  if (st.options.can_poll && !st.options.can_poll())
    return; // the database is away: the monitor says so, once
  st.leasing = true;
  auto me = caf::actor{self};
  st.store->lease(std::min(room, st.options.batch), st.options.lease_for,
                  [me](std::vector<job> jobs, std::string error) {
                    caf::anon_send(me, atom::leased::value, std::move(jobs),
                                   std::move(error));
                  });
}

caf::behavior scheduler(scheduler_self* self, std::shared_ptr<job_store> store,
                        scheduler_options options, const logger* log,
                        metrics_registry* metrics) {
  auto& st = self->state;
  st.store = std::move(store);
  st.options = std::move(options);
  st.log = log;
  if (metrics) {
    auto help = "Durable jobs run, by outcome.";
    st.done_metric
      = &metrics->get_counter("kassa_jobs_total", help, {{"outcome", "done"}});
    st.retried_metric
      = &metrics->get_counter("kassa_jobs_total", help, {{"outcome", "retry"}});
    st.dead_metric
      = &metrics->get_counter("kassa_jobs_total", help, {{"outcome", "dead"}});
  }
  self->send(self, atom::tick::value);
  return {
    [self](atom::schedule, job_spec& spec) -> caf::response_promise {
      auto rp = self->make_response_promise();
      self->state.store->schedule(
        std::move(spec), [rp](std::string error) mutable {
          if (error.empty())
            rp.deliver(true);
          else
            rp.deliver(caf::make_error(errc::database_error, error));
        });
      return rp;
    },
    [self](atom::tick) {
      poll(self);
      self->delayed_send(self, self->state.options.poll_interval,
                         atom::tick::value);
    },
    [self](atom::leased, std::vector<job>& jobs, std::string& error) {
      auto& st = self->state;
      st.leasing = false;
      if (!error.empty()) {
        if (st.log && (!st.options.can_poll || st.options.can_poll()))
          st.log->warn("scheduler", "cannot lease jobs", {{"error", error}});
        return;
      }
      // A full batch: more may be due right now.
      st.more_due = static_cast<int>(jobs.size()) == st.options.batch;
      for (auto& j : jobs)
        run_job(self, j);
      if (st.more_due)
        poll(self);
    },
  };
}

} // namespace

caf::actor spawn_scheduler(caf::local_actor* parent,
                           std::shared_ptr<job_store> store,
                           scheduler_options options, const logger* log,
                           metrics_registry* metrics) {
  return parent->spawn(scheduler, std::move(store), std::move(options), log,
                       metrics);
}

} // namespace kassa
