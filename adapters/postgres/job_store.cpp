#include "adapters/postgres/job_store.hpp"

#include <mutex>

#include <nlohmann/json.hpp>

#include "adapters/postgres/arrays.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/clock.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

/// A timestamp given as milliseconds since the Unix epoch (exact: no
/// floating point on the way).
std::string epoch_ms_sql(const char* param) {
  return std::string{"(timestamptz 'epoch' + "} + param
         + "::bigint * interval '1 millisecond')";
}

} // namespace

std::optional<pg::error> pg::insert_job(connection& conn, const job_spec& spec,
                                        int64_t run_at_ms,
                                        std::optional<std::string> shard) {
  result res;
  return conn.exec(
    "INSERT INTO jobs (kind, key, payload, run_at, shard) VALUES ($1, "
    "$2, $3::jsonb, "
      + epoch_ms_sql("$4")
      + ", "
        "$6::int) ON CONFLICT (key) DO UPDATE SET status = 'pending', "
        "run_at = excluded.run_at, attempts = 0, last_error = NULL, "
        "updated_at = now(), shard = excluded.shard "
        "WHERE $5 AND jobs.status = 'done'",
    {spec.kind, spec.key, spec.payload.empty() ? "{}" : spec.payload,
     std::to_string(run_at_ms), spec.revive ? "true" : "false",
     std::move(shard)},
    res);
}

namespace {

/// A job to insert, with who waits for it to be durable.
struct pending_schedule {
  job_spec spec;
  int64_t run_at_ms = 0;
  std::optional<std::string> shard;
  std::function<void(std::string)> done;
};

/// What waits for the next flush: schedules and outcomes arriving while a
/// flush runs go, all of them, into the next one — one statement for many
/// jobs (a wave of renewals schedules and finishes thousands a second;
/// one statement and one commit each made PostgreSQL the bottleneck).
/// One flush at a time, in order: a job's outcome is written before a
/// schedule that came after it (a parked saga's revival of its job, which
/// takes only a finished row, must not overtake the finish).
struct pending_writes {
  std::mutex mutex;
  std::vector<pending_schedule> schedules;
  std::vector<std::pair<int64_t, job_outcome>> outcomes;
  bool flushing = false;
};

/// Inserts `batch` in one statement; a job whose key exists is left
/// alone. (A revived job — rare, a parked saga's — is inserted on its own:
/// its conflict updates the done row.)
std::string insert_batch(pg::connection& conn,
                         const std::vector<pending_schedule>& batch) {
  std::vector<std::string> kinds, keys, payloads;
  std::vector<int64_t> run_at;
  std::vector<std::optional<std::string>> shards;
  for (auto& s : batch) {
    if (s.spec.revive) {
      if (auto err = pg::insert_job(conn, s.spec, s.run_at_ms, s.shard))
        return err->message;
      continue;
    }
    kinds.push_back(s.spec.kind);
    keys.push_back(s.spec.key);
    payloads.push_back(s.spec.payload.empty() ? "{}" : s.spec.payload);
    run_at.push_back(s.run_at_ms);
    shards.push_back(s.shard);
  }
  if (keys.empty())
    return {};
  pg::result res;
  auto err = conn.exec(
    "INSERT INTO jobs (kind, key, payload, run_at, shard) SELECT v.kind, "
    "v.key, v.payload::jsonb, "
      + epoch_ms_sql("v.run_at")
      + ", v.shard::int FROM unnest($1::text[], $2::text[], $3::text[], "
        "$4::bigint[], $5::text[]) AS v(kind, key, payload, run_at, shard) "
        "ON CONFLICT (key) DO NOTHING",
    {pg::text_array(kinds), pg::text_array(keys), pg::text_array(payloads),
     pg::int_array(run_at), pg::text_array(shards)},
    res);
  return err ? err->message : std::string{};
}

void record_outcomes(pg::connection& conn,
                     const std::vector<std::pair<int64_t, job_outcome>>& all,
                     int64_t now_ms) {
  std::vector<int64_t> done;
  pg::result res;
  for (auto& [id, outcome] : all) {
    std::optional<std::string> error;
    if (!outcome.error.empty())
      error = outcome.error;
    switch (outcome.kind) {
      case job_outcome::done:
        done.push_back(id);
        break;
      case job_outcome::retry:
        conn.exec("UPDATE jobs SET status = 'pending', lease_until = NULL, "
                  "run_at = "
                    + epoch_ms_sql("$2")
                    + ", last_error = $3, updated_at = now() WHERE id = $1",
                  {std::to_string(id),
                   std::to_string(now_ms + outcome.delay.count()), error},
                  res);
        break;
      case job_outcome::dead:
        conn.exec("UPDATE jobs SET status = 'dead', lease_until = NULL, "
                  "last_error = $2, updated_at = now() WHERE id = $1",
                  {std::to_string(id), error}, res);
        break;
    }
  }
  if (!done.empty())
    conn.exec("UPDATE jobs SET status = 'done', lease_until = NULL, "
              "updated_at = now() WHERE id = ANY($1::bigint[])",
              {pg::int_array(done)}, res);
}

class pg_job_store : public job_store {
public:
  pg_job_store(db_pool_handle pool,
               std::shared_ptr<const shard_ownership> ownership,
               std::shared_ptr<const node_clock> clock)
    : pool_(std::move(pool)), ownership_(std::move(ownership)),
      clock_(clock ? std::move(clock) : make_system_clock()),
      pending_(std::make_shared<pending_writes>()) {}

  void schedule(job_spec spec, std::function<void(std::string)> done) override {
    std::optional<std::string> shard;
    if (ownership_ && !spec.owner_id.empty())
      shard
        = std::to_string(shard_of(spec.owner_id, ownership_->shard_count()));
    // Due at the node's clock's now + delay (in the node's time).
    auto run_at = clock_->now_ms() + spec.delay_ms;
    std::lock_guard<std::mutex> guard{pending_->mutex};
    pending_->schedules.push_back(
      {std::move(spec), run_at, std::move(shard), std::move(done)});
    queue_flush();
  }

  void lease(int limit, millis lease_for,
             std::function<void(std::vector<job>, std::string)> done) override {
    // The shards this node holds: their jobs, and jobs of no shard.
    std::optional<std::string> held;
    if (ownership_)
      held = pg::int_array(to_int64(ownership_->current()->held_shards()));
    auto now = std::to_string(clock_->now_ms());
    submit_db_work(
      pool_, [limit, lease_for, done, held, now](pg::connection& conn) {
        if (!conn.ok())
          return done({}, "database unavailable");
        pg::result res;
        // SKIP LOCKED: another scheduler leasing at the same moment takes
        // other rows instead of waiting for these.
        if (auto err = conn.exec(
              "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
              "lease_until = now() + $2::bigint * interval '1 millisecond', "
              "updated_at = now() WHERE id IN (SELECT id FROM jobs WHERE "
              "status IN ('pending', 'running') AND run_at <= "
                + epoch_ms_sql("$4")
                + " AND "
                  "(status = 'pending' OR lease_until < now()) AND ($3::int[] "
                  "IS NULL OR shard IS NULL OR shard = ANY($3::int[])) ORDER "
                  "BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
                  "RETURNING id, kind, key, payload::text, attempts",
              {std::to_string(limit), std::to_string(lease_for.count()), held,
               now},
              res))
          return done({}, err->message);
        std::vector<job> jobs;
        for (int r = 0; r < res.rows(); ++r)
          jobs.push_back(job{std::stoll(std::string{res.value(r, 0)}),
                             std::string{res.value(r, 1)},
                             std::string{res.value(r, 2)},
                             std::string{res.value(r, 3)},
                             std::stoi(std::string{res.value(r, 4)})});
        done(std::move(jobs), {});
      });
  }

  void finish(int64_t id, job_outcome outcome) override {
    std::lock_guard<std::mutex> guard{pending_->mutex};
    pending_->outcomes.emplace_back(id, std::move(outcome));
    queue_flush();
  }

private:
  /// With the mutex held: unless a flush runs, one on the pool, which
  /// writes what is pending and then what joined meanwhile, until nothing
  /// is left.
  void queue_flush() {
    if (pending_->flushing)
      return;
    pending_->flushing = true;
    auto clock = clock_;
    submit_db_work(pool_, [p = pending_, clock](pg::connection& conn) {
      for (;;) {
        std::vector<pending_schedule> schedules;
        std::vector<std::pair<int64_t, job_outcome>> outcomes;
        {
          std::lock_guard<std::mutex> guard{p->mutex};
          schedules.swap(p->schedules);
          outcomes.swap(p->outcomes);
          if (schedules.empty() && outcomes.empty()) {
            p->flushing = false;
            return;
          }
        }
        std::string error = conn.ok() ? std::string{} : "database unavailable";
        try {
          // Outcomes lost with the connection are harmless: the leases
          // expire and the jobs run again (their handlers are idempotent).
          if (error.empty() && !outcomes.empty())
            record_outcomes(conn, outcomes, clock->now_ms());
          if (error.empty() && !schedules.empty())
            error = insert_batch(conn, schedules);
        } catch (...) {
          // The pool's boundary reports it; the next write flushes again.
          for (auto& s : schedules)
            s.done("internal error");
          std::lock_guard<std::mutex> guard{p->mutex};
          p->flushing = false;
          throw;
        }
        for (auto& s : schedules)
          s.done(error);
      }
    });
  }

  static std::vector<int64_t> to_int64(const std::vector<int32_t>& xs) {
    return {xs.begin(), xs.end()};
  }

  db_pool_handle pool_;
  std::shared_ptr<const shard_ownership> ownership_;
  std::shared_ptr<const node_clock> clock_;
  std::shared_ptr<pending_writes> pending_;
};

} // namespace

std::shared_ptr<job_store>
make_pg_job_store(db_pool_handle pool,
                  std::shared_ptr<const shard_ownership> ownership,
                  std::shared_ptr<const node_clock> clock) {
  return std::make_shared<pg_job_store>(std::move(pool), std::move(ownership),
                                        std::move(clock));
}

} // namespace kassa
