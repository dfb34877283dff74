#pragma once

#include <memory>

#include "actors/stats.hpp"
#include "adapters/postgres/pool.hpp"
#include "runtime/call_stats.hpp"

namespace kassa {

namespace pg {
class connection;
} // namespace pg

/// The statistics in PostgreSQL (migration 0020), on the pool; `calls`:
/// what the node's provider connections tally (taken in with each fold).
std::shared_ptr<stats_store>
make_pg_stats_store(db_pool_handle pool, std::shared_ptr<call_recorder> calls);

/// Folds up to `limit` events after the stored cursor, and what `calls`
/// tallied (null: nothing), in one transaction (blocking): `folded`
/// events, the new `cursor`; empty string = ok (a failure puts the calls
/// back).
std::string fold_stats_batch(pg::connection& conn, int64_t limit,
                             call_recorder* calls, int64_t& folded,
                             int64_t& cursor);

/// The report of [from, to) (RFC 3339 times) by `granularity` (hour, day,
/// month), blocking.
reply read_stats(pg::connection& conn, const std::string& from,
                 const std::string& to, const std::string& granularity);

} // namespace kassa
