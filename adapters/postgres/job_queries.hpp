#pragma once

// The job queue as people see it (GET /v1/jobs, an operator's retry and
// cancel): plain statements on a pool connection.

#include <cstdint>
#include <string>

#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// Jobs with `status` and `kind` (empty = any) and id > `after`, oldest
/// first, at most `limit`: `{"jobs":[...],"next_after":id|null}`.
reply list_jobs(connection& conn, const std::string& status,
                const std::string& kind, int64_t after, int64_t limit);

/// Job `id` to run now (`now_ms`: the node's clock, as the scheduler
/// compares): a waiting job is made due, a dead or canceled one revived with
/// its attempts counted afresh. Running or done: `job_state`.
reply retry_job(connection& conn, int64_t id, int64_t now_ms);

/// Job `id` never to run: a waiting or dead job becomes `canceled`.
/// Running or done: `job_state`; canceled already: answered as it is.
reply cancel_job(connection& conn, int64_t id);

} // namespace kassa::pg
