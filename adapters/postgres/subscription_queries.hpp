#pragma once

// Subscriptions in PostgreSQL (migration 0018): the row the route writes
// with the first job, the actor's load, and the reads of the API.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/billing_calendar.hpp"
#include "actors/reply.hpp"
#include "actors/subscription.hpp"
#include "adapters/postgres/pool.hpp"

namespace kassa {

/// The store the subscription actors load from (work goes to the pool).
std::shared_ptr<subscription_store>
make_pg_subscription_store(db_pool_handle pool);

namespace pg {

class connection;

/// Makes a subscription: its row (with `terms`) and the job of its first
/// period, due at the anchor (`first_job`, in the node's time), in the
/// caller's transaction; answers `created` with the subscription as
/// GET shows it. `shard`: the job's (none: any node).
reply create_subscription(connection& conn, const subscription_terms& terms,
                          const job_spec& first_job, int64_t run_at_ms,
                          std::optional<std::string> shard, billing_time now);

/// `done` when subscription `id` exists, else `subscription_not_found`.
reply subscription_exists(connection& conn, const std::string& id);

/// GET /v1/subscriptions/{id}: folded from its journal (and its row's
/// terms while the journal is not opened yet); `subscription_not_found`.
reply get_subscription(connection& conn, const std::string& id,
                       billing_time now);

/// GET /v1/subscriptions: by id after `after`, of `customer` and with
/// `status` when given (empty: any).
reply list_subscriptions(connection& conn, const std::string& customer,
                         const std::string& status, const std::string& after,
                         int64_t limit);

} // namespace pg

} // namespace kassa
