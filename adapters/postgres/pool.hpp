#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/reply.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class database_health;
class logger;
class metrics_registry;

namespace pg {
class connection;
} // namespace pg

/// Work for one pooled connection. Runs on a detached actor's own thread, so
/// it may block in libpq. `conn.ok()` is false when the database could not be
/// reached; the job decides what to answer then. Its result is the reply to
/// whoever sent the `(atom::exec, db_job)` request.
using db_job = std::function<caf::message(pg::connection& conn)>;

/// The pool as its users hold it: straight to the current `db_pool`
/// (runtime/child_handle.hpp). Dynamically typed: a job's answer is
/// whatever message the job makes.
using db_pool_handle = child_handle<caf::actor>;

/// Runs `work` on a connection of the pool and returns at once; `work`
/// answers whoever it must by itself.
void submit_db_work(const db_pool_handle& pool,
                    std::function<void(pg::connection&)> work);

/// Runs `work` on a pool connection and sends its reply to `out`:
/// `database_unavailable` when the database is unreachable, `internal`
/// when `work` throws.
void submit_db_answer(const db_pool_handle& pool, reply_ptr out,
                      std::function<reply(pg::connection&)> work);

struct db_pool_options {
  std::string url;
  int size = 4;
  int connect_timeout_s = 5;
  /// The node's view of the database: workers do not try to connect while
  /// it is down and report a connection that broke. Null: connect lazily,
  /// log each failure (tests).
  std::shared_ptr<database_health> health;
};

/// Spawns the pool: `size` detached workers, each owning one connection
/// (opened lazily and reopened after it breaks), behind an event-based front
/// that hands each `(atom::exec, db_job)` to an idle worker or queues it.
/// Workers are linked to the front; the front is what a supervisor restarts.
caf::actor spawn_db_pool(caf::local_actor* parent, db_pool_options options,
                         const logger* log, metrics_registry* metrics);

} // namespace kassa
