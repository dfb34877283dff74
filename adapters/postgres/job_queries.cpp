#include "adapters/postgres/job_queries.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa::pg {

namespace {

using json = nlohmann::json;

std::string job_columns() {
  return "id, kind, key, payload::text, status, " + rfc3339_sql("run_at")
         + ", attempts, last_error, " + rfc3339_sql("created_at") + ", "
         + rfc3339_sql("updated_at");
}

json job_json(const result& res, int r) {
  return {
    {"id", std::stoll(std::string{res.value(r, 0)})},
    {"kind", res.value(r, 1)},
    {"key", res.value(r, 2)},
    {"payload", json::parse(res.value(r, 3), nullptr, false)},
    {"status", res.value(r, 4)},
    {"run_at", res.value(r, 5)},
    {"attempts", std::stoi(std::string{res.value(r, 6)})},
    {"last_error", res.is_null(r, 7) ? json(nullptr) : json(res.value(r, 7))},
    {"created_at", res.value(r, 8)},
    {"updated_at", res.value(r, 9)},
  };
}

/// The job's row after an update that matched nothing: why (no such job,
/// or its status forbids it).
reply refused(connection& conn, int64_t id, const std::string& what) {
  result res;
  if (auto err = conn.exec("SELECT status FROM jobs WHERE id = $1",
                           {std::to_string(id)}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::job_not_found,
                       "no job " + std::to_string(id));
  return reply::fail(failure_code::job_state, "job " + std::to_string(id)
                                                + " is "
                                                + std::string{res.value(0, 0)}
                                                + ": it cannot be " + what);
}

} // namespace

reply list_jobs(connection& conn, const std::string& status,
                const std::string& kind, int64_t after, int64_t limit) {
  result res;
  std::optional<std::string> status_param;
  std::optional<std::string> kind_param;
  if (!status.empty())
    status_param = status;
  if (!kind.empty())
    kind_param = kind;
  if (auto err = conn.exec(
        "SELECT " + job_columns()
          + " FROM jobs WHERE ($1::text IS NULL OR status = $1) AND "
            "($4::text IS NULL OR kind = $4) AND id > $2 ORDER BY id LIMIT $3",
        {status_param, std::to_string(after), std::to_string(limit),
         kind_param},
        res))
    return database_failure(err->message);
  auto jobs = json::array();
  for (int r = 0; r < res.rows(); ++r)
    jobs.push_back(job_json(res, r));
  json page{{"jobs", std::move(jobs)}, {"next_after", nullptr}};
  if (res.rows() == limit)
    page["next_after"] = page["jobs"].back()["id"];
  return reply::done(page.dump());
}

reply retry_job(connection& conn, int64_t id, int64_t now_ms) {
  result res;
  if (auto err = conn.exec(
        "UPDATE jobs SET run_at = (timestamptz 'epoch' + $2::bigint * "
        "interval '1 millisecond'), attempts = CASE WHEN status = 'pending' "
        "THEN attempts ELSE 0 END, status = 'pending', lease_until = NULL, "
        "updated_at = now() WHERE id = $1 AND status IN ('pending', 'dead', "
        "'canceled') RETURNING "
          + job_columns(),
        {std::to_string(id), std::to_string(now_ms)}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return refused(conn, id, "retried (it runs or has run)");
  return reply::done(job_json(res, 0).dump());
}

reply cancel_job(connection& conn, int64_t id) {
  result res;
  if (auto err = conn.exec(
        "UPDATE jobs SET status = 'canceled', lease_until = NULL, updated_at "
        "= now() WHERE id = $1 AND status IN ('pending', 'dead', 'canceled') "
        "RETURNING "
          + job_columns(),
        {std::to_string(id)}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return refused(conn, id, "canceled (it runs or has run)");
  return reply::done(job_json(res, 0).dump());
}

} // namespace kassa::pg
