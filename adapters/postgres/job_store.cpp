#include "adapters/postgres/job_store.hpp"

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

class pg_job_store : public job_store {
public:
  pg_job_store(db_pool_handle pool,
               std::shared_ptr<const shard_ownership> ownership,
               std::shared_ptr<const node_clock> clock)
    : pool_(std::move(pool)), ownership_(std::move(ownership)),
      clock_(clock ? std::move(clock) : make_system_clock()) {}

  void schedule(job_spec spec, std::function<void(std::string)> done) override {
    std::optional<std::string> shard;
    if (ownership_ && !spec.owner_id.empty())
      shard
        = std::to_string(shard_of(spec.owner_id, ownership_->shard_count()));
    // Due at the node's clock's now + delay (in the node's time).
    auto run_at = clock_->now_ms() + spec.delay_ms;
    submit_db_work(pool_, [spec, done, shard, run_at](pg::connection& conn) {
      if (!conn.ok())
        return done("database unavailable");
      auto err = pg::insert_job(conn, spec, run_at, shard);
      done(err ? err->message : std::string{});
    });
  }

  void lease(int limit, millis lease_for,
             std::function<void(std::vector<job>, std::string)> done) override {
    // The shards this node holds: their jobs, and jobs of no shard.
    std::optional<std::string> held;
    if (ownership_)
      held = pg::int_array(to_int64(ownership_->current()->held_shards()));
    auto now = std::to_string(clock_->now_ms());
    submit_db_work(pool_, [limit, lease_for, done, held,
                           now](pg::connection& conn) {
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
                "(status = 'pending' OR lease_until < now()) AND ($3::int[] IS "
                "NULL OR shard IS NULL OR shard = ANY($3::int[])) ORDER BY "
                "run_at "
                "LIMIT $1 FOR UPDATE SKIP LOCKED) "
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
    auto retry_at = std::to_string(clock_->now_ms() + outcome.delay.count());
    submit_db_work(pool_, [id, outcome, retry_at](pg::connection& conn) {
      if (!conn.ok())
        return; // the lease expires and the job runs again
      pg::result res;
      std::optional<std::string> error;
      if (!outcome.error.empty())
        error = outcome.error;
      switch (outcome.kind) {
        case job_outcome::done:
          conn.exec("UPDATE jobs SET status = 'done', lease_until = NULL, "
                    "updated_at = now() WHERE id = $1",
                    {std::to_string(id)}, res);
          break;
        case job_outcome::retry:
          conn.exec("UPDATE jobs SET status = 'pending', lease_until = NULL, "
                    "run_at = "
                      + epoch_ms_sql("$2")
                      + ", "
                        "last_error = $3, updated_at = now() WHERE id = $1",
                    {std::to_string(id), retry_at, error}, res);
          break;
        case job_outcome::dead:
          conn.exec("UPDATE jobs SET status = 'dead', lease_until = NULL, "
                    "last_error = $2, updated_at = now() WHERE id = $1",
                    {std::to_string(id), error}, res);
          break;
      }
    });
  }

private:
  static std::vector<int64_t> to_int64(const std::vector<int32_t>& xs) {
    return {xs.begin(), xs.end()};
  }

  db_pool_handle pool_;
  std::shared_ptr<const shard_ownership> ownership_;
  std::shared_ptr<const node_clock> clock_;
};

} // namespace

std::shared_ptr<job_store>
make_pg_job_store(db_pool_handle pool,
                  std::shared_ptr<const shard_ownership> ownership,
                  std::shared_ptr<const node_clock> clock) {
  return std::make_shared<pg_job_store>(std::move(pool), std::move(ownership),
                                        std::move(clock));
}

std::string list_jobs(pg::connection& conn, const std::string& status,
                      int64_t after, int64_t limit, nlohmann::json& out) {
  pg::result res;
  std::optional<std::string> status_param;
  if (!status.empty())
    status_param = status;
  if (auto err = conn.exec(
        "SELECT id, kind, key, payload::text, status, "
          + pg::rfc3339_sql("run_at") + ", attempts, last_error, "
          + pg::rfc3339_sql("created_at") + ", " + pg::rfc3339_sql("updated_at")
          + " FROM jobs WHERE ($1::text IS NULL OR status = $1) AND id > $2 "
            "ORDER BY id LIMIT $3",
        {status_param, std::to_string(after), std::to_string(limit)}, res))
    return err->message;
  auto jobs = nlohmann::json::array();
  int64_t last = 0;
  for (int r = 0; r < res.rows(); ++r) {
    last = std::stoll(std::string{res.value(r, 0)});
    jobs.push_back({
      {"id", last},
      {"kind", res.value(r, 1)},
      {"key", res.value(r, 2)},
      {"payload", nlohmann::json::parse(res.value(r, 3), nullptr, false)},
      {"status", res.value(r, 4)},
      {"run_at", res.value(r, 5)},
      {"attempts", std::stoi(std::string{res.value(r, 6)})},
      {"last_error", res.is_null(r, 7) ? nlohmann::json(nullptr)
                                       : nlohmann::json(res.value(r, 7))},
      {"created_at", res.value(r, 8)},
      {"updated_at", res.value(r, 9)},
    });
  }
  out = {{"jobs", std::move(jobs)},
         {"next_after", res.rows() == limit ? nlohmann::json(last)
                                            : nlohmann::json(nullptr)}};
  return {};
}

} // namespace kassa
