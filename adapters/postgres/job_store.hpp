#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include "adapters/postgres/pool.hpp"
#include "runtime/scheduler.hpp"

namespace kassa {

class node_clock;
class shard_ownership;

namespace pg {
class connection;
struct error;

/// Inserts `spec` due at `run_at_ms` (ms since the Unix epoch, the node's
/// clock) in shard `shard` (none: any node runs it), as the store's
/// `schedule` does — for a job that must be created in the caller's
/// transaction. Blocking.
std::optional<error> insert_job(connection& conn, const job_spec& spec,
                                int64_t run_at_ms,
                                std::optional<std::string> shard);
} // namespace pg

/// Jobs in PostgreSQL (table `jobs`); work goes to the pool. A job with an
/// owner id is stored with its shard and leased only by the node holding
/// that shard (`ownership`; null: any job). When a job is due is the
/// node's clock (`clock`: a test clock moves it; null: the machine's) —
/// `run_at` is written and compared in its time; leases run on the
/// database's.
std::shared_ptr<job_store>
make_pg_job_store(db_pool_handle pool,
                  std::shared_ptr<const shard_ownership> ownership = {},
                  std::shared_ptr<const node_clock> clock = {});

} // namespace kassa
