#include "adapters/postgres/pool.hpp"

#include <deque>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/reconnect.hpp"
#include "adapters/type_ids.hpp"
#include "runtime/errc.hpp"
#include "runtime/fault_reporter.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

namespace {

// -- worker: one connection, one thread ---------------------------------------

struct db_worker_state {
  static inline const char* name = "db_worker";
  pg::tracked_connection db;
};

caf::behavior db_worker(caf::stateful_actor<db_worker_state>* self,
                        caf::actor pool, db_pool_options options,
                        const logger* log, metrics_registry* metrics) {
  return {
    [=](atom::exec, db_job& job) -> caf::message {
      auto& db = self->state.db;
      auto* health = options.health.get();
      // Down: no connect attempt (the monitor probes for everyone, and says
      // so once); the job sees a closed connection and answers for itself.
      if (auto why = pg::ensure_connected(db, options.url,
                                          options.connect_timeout_s, health);
          why && !health && log)
        log->warn("db_pool", "cannot connect to the database",
                  {{"error", *why}});
      auto& conn = db.conn;
      bool was_open = conn.ok();
      caf::message result;
      try {
        result = job(conn);
      } catch (...) {
        // Boundary: a job's bug must not take the connection's thread (and
        // with it the pool) down.
        auto what = fault_reporter{log, metrics}.report(
          "db_job", std::current_exception());
        result = caf::make_message(
          caf::make_error(errc::database_error, std::move(what)));
      }
      if (was_open)
        pg::note_if_broken(db, health);
      self->send(pool, atom::done::value);
      return result;
    },
  };
}

// -- front: hands jobs to idle workers ----------------------------------------

struct db_pool_state {
  static inline const char* name = "db_pool";
  std::vector<caf::actor> workers;
  std::deque<caf::actor> idle;
  std::deque<std::pair<caf::response_promise, db_job>> waiting;
  gauge* in_use = nullptr;
  gauge* queued = nullptr;
};

caf::behavior db_pool(caf::stateful_actor<db_pool_state>* self,
                      db_pool_options options, const logger* log,
                      metrics_registry* metrics) {
  auto& st = self->state;
  for (int i = 0; i < options.size; ++i) {
    auto worker = self->spawn<caf::detached + caf::linked>(
      db_worker, caf::actor{self}, options, log, metrics);
    st.workers.push_back(worker);
    st.idle.push_back(worker);
  }
  if (metrics) {
    metrics
      ->get_gauge("kassa_db_pool_connections",
                  "Connections in the database pool.")
      .set(options.size);
    st.in_use = &metrics->get_gauge("kassa_db_pool_in_use",
                                    "Pool connections running a job.");
    st.queued = &metrics->get_gauge("kassa_db_pool_waiting",
                                    "Jobs waiting for a free connection.");
  }
  auto update_gauges = [self] {
    auto& st = self->state;
    if (st.in_use)
      st.in_use->set(static_cast<int64_t>(st.workers.size() - st.idle.size()));
    if (st.queued)
      st.queued->set(static_cast<int64_t>(st.waiting.size()));
  };
  return {
    [=](atom::exec, db_job& job) -> caf::response_promise {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      if (st.idle.empty()) {
        st.waiting.emplace_back(rp, std::move(job));
      } else {
        auto worker = st.idle.front();
        st.idle.pop_front();
        rp.delegate(worker, atom::exec::value, std::move(job));
      }
      update_gauges();
      return rp;
    },
    [=](atom::done) {
      auto& st = self->state;
      auto worker = caf::actor_cast<caf::actor>(self->current_sender());
      if (!st.waiting.empty()) {
        auto [rp, job] = std::move(st.waiting.front());
        st.waiting.pop_front();
        rp.delegate(worker, atom::exec::value, std::move(job));
      } else {
        // Last in, first out: the connections a light load needs stay the
        // same few, their threads and server processes warm in the caches,
        // instead of a turn for each of the pool's connections.
        st.idle.push_front(worker);
      }
      update_gauges();
    },
  };
}

} // namespace

void submit_db_work(const db_pool_handle& pool,
                    std::function<void(pg::connection&)> work) {
  db_job job = [work = std::move(work)](pg::connection& conn) {
    work(conn);
    return caf::message{};
  };
  pool.anon_send(atom::exec::value, std::move(job));
}

void submit_db_answer(const db_pool_handle& pool, reply_ptr out,
                      std::function<reply(pg::connection&)> work) {
  submit_db_work(
    pool, [out = std::move(out), work = std::move(work)](pg::connection& conn) {
      reply answer;
      try {
        answer = conn.ok() ? work(conn) : database_unavailable({});
      } catch (...) {
        out->send(reply::fail(failure_code::internal,
                              "internal error; the node logged what happened"));
        throw; // the worker's boundary logs and counts it
      }
      out->send(std::move(answer));
    });
}

caf::actor spawn_db_pool(caf::local_actor* parent, db_pool_options options,
                         const logger* log, metrics_registry* metrics) {
  return parent->spawn(db_pool, std::move(options), log, metrics);
}

} // namespace kassa
