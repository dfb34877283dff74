#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "actors/notification_hub.hpp"
#include "adapters/postgres/pool.hpp"

namespace kassa {

/// The notification log in PostgreSQL (table `events`), read on the pool.
std::shared_ptr<event_log> make_pg_event_log(db_pool_handle pool);

namespace pg {
class connection;
class result;
} // namespace pg

/// Reads events after `after` (up to `upto`, 0 = no bound) matching any of
/// `topics` (empty = all), at most `limit`. Blocking; empty string = ok.
std::string read_events(pg::connection& conn, int64_t after, int64_t upto,
                        const std::vector<std::string>& topics, int64_t limit,
                        std::vector<published_event>& out);

} // namespace kassa
