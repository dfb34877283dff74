#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/notification_hub.hpp"
#include "actors/order_saga.hpp"
#include "adapters/postgres/pool.hpp"

namespace kassa {

namespace pg {
class connection;
struct error;
} // namespace pg

struct journal_entry;

/// The journal rows (their `events` with a `stream_seq`) of the sagas `ids`,
/// in seq order per
/// saga; a saga without rows is absent from `out`.
std::optional<pg::error>
read_saga_journals(pg::connection& conn, const std::vector<std::string>& ids,
                   std::map<std::string, std::vector<journal_entry>>& out);

/// Sagas in PostgreSQL (tables sagas, events); work goes to the pool, a
/// given-up saga's `order.failed` to the hub.
std::shared_ptr<saga_store>
make_pg_saga_store(db_pool_handle pool,
                   child_handle<notification_hub_actor> hub, const logger* log);

} // namespace kassa
