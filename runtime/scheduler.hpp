#pragma once

// Durable deferred work: a job is a row (kind, key, payload, run_at) that
// outlives the node. The scheduler leases due jobs (`FOR UPDATE SKIP LOCKED`
// in the PostgreSQL store), hands each to the actor registered for its kind,
// and records the outcome: done, retried later with backoff, or dead after
// too many attempts. A node that dies holding a lease loses it when the lease
// expires, and the job runs again — handlers are idempotent.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/atoms.hpp"
#include "runtime/backoff.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class logger;
class metrics_registry;

/// A job to schedule. The same `key` scheduled twice is one job.
struct job_spec {
  std::string kind;    ///< selects the handler, e.g. "resume_saga"
  std::string key;     ///< unique, e.g. "resume_saga:ord_1:charge_payment:3"
  std::string payload; ///< JSON object given to the handler
  int64_t delay_ms = 0;
  /// A finished (`done`) job with this key runs again: its owner sees that
  /// the earlier run did not take (a parked saga still parked after load).
  bool revive = false;
  /// The id whose shard owns the job (an order id): only the node holding
  /// that shard runs it. Empty: any node.
  std::string owner_id;

  friend bool operator==(const job_spec&, const job_spec&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_spec& x) {
  return f(caf::meta::type_name("kassa::job_spec"), x.kind, x.key, x.payload,
           x.delay_ms, x.revive, x.owner_id);
}

/// A leased job, as a handler receives it in `(atom::run, job) -> bool`.
/// The handler answers true when the work is done; an error (or no answer
/// within the lease) retries it later.
struct job {
  int64_t id = 0;
  std::string kind;
  std::string key;
  std::string payload;
  int32_t attempts = 0; ///< including this one

  friend bool operator==(const job&, const job&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job& x) {
  return f(caf::meta::type_name("kassa::job"), x.id, x.kind, x.key, x.payload,
           x.attempts);
}

/// How a run ended, as the store records it.
struct job_outcome {
  enum kind_t : uint8_t { done, retry, dead } kind = done;
  millis delay{0}; ///< retry: run again after this long
  std::string error;
};

/// Where jobs live (adapters/postgres/job_store.cpp). Every call returns at
/// once and calls its callback later, from another thread.
class job_store {
public:
  virtual ~job_store() = default;
  /// Inserts the job unless its key exists; `done("")` once durable.
  virtual void schedule(job_spec spec, std::function<void(std::string)> done)
    = 0;
  /// Leases up to `limit` due jobs (pending with run_at passed, or running
  /// with an expired lease) for `lease_for`.
  virtual void
  lease(int limit, millis lease_for,
        std::function<void(std::vector<job>, std::string error)> done)
    = 0;
  virtual void finish(int64_t id, job_outcome outcome) = 0;
};

/// What runs the jobs of one kind: `(atom::run, job) -> bool` — true once
/// done; an error retries the job later (or makes it dead).
using job_handler_actor
  = caf::typed_actor<caf::replies_to<atom::run, job>::with<bool>>;

/// The scheduler as those who schedule jobs hold it.
using scheduler_actor
  = caf::typed_actor<caf::replies_to<atom::schedule, job_spec>::with<bool>>;

struct scheduler_options {
  millis poll_interval{500};
  millis lease_for{30000};
  int batch = 64;        ///< jobs leased per poll
  int max_running = 256; ///< jobs handed out and not yet answered
  uint32_t max_attempts = 20;
  millis retry_initial{1000};
  millis retry_max{300000};
  /// kind → the actor that runs it (`job_handler_actor`).
  std::map<std::string, child_handle<job_handler_actor>> handlers;
  /// False while what the jobs live in is away (the database): no lease is
  /// tried and nothing is logged until it is back. Unset: always poll.
  std::function<bool()> can_poll = {};
};

/// The attempt after `attempts` failed ones: retry after a jittered
/// exponential delay, or dead once `max_attempts` is reached. Plain code,
/// unit-tested. `unit` is a random number in [0, 1).
job_outcome job_failure_outcome(const scheduler_options& options,
                                int32_t attempts, std::string error,
                                double unit);

/// Spawns the scheduler. Protocol (`scheduler_actor`):
/// - `(atom::schedule, job_spec) -> bool`: true once the job is durable.
/// Each due job goes to its kind's handler (`scheduler_options::handlers`).
caf::actor spawn_scheduler(caf::local_actor* parent,
                           std::shared_ptr<job_store> store,
                           scheduler_options options, const logger* log,
                           metrics_registry* metrics);

} // namespace kassa
