#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include "adapters/postgres/pool.hpp"
#include "runtime/scheduler.hpp"

namespace kassa {

class shard_ownership;

namespace pg {
class connection;
} // namespace pg

/// Jobs in PostgreSQL (table `jobs`); work goes to the pool. A job with an
/// owner id is stored with its shard and leased only by the node holding
/// that shard (`ownership`; null: any job).
std::shared_ptr<job_store>
make_pg_job_store(db_pool_handle pool,
                  std::shared_ptr<const shard_ownership> ownership = {});

/// GET /v1/jobs: jobs with `status` (empty = any) and id > `after`, oldest
/// first, at most `limit`, as `{"jobs":[...],"next_after":id|null}`.
/// Blocking (runs on a pool connection); empty string = ok.
std::string list_jobs(pg::connection& conn, const std::string& status,
                      int64_t after, int64_t limit, nlohmann::json& out);

} // namespace kassa
