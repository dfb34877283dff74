#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/order_saga.hpp"

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

/// Sagas in PostgreSQL (tables sagas, events); work goes to the pool.
std::shared_ptr<saga_store> make_pg_saga_store(caf::actor supervisor,
                                               const logger* log);

} // namespace kassa
