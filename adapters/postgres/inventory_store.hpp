#pragma once

#include <memory>
#include <vector>

#include <caf/actor.hpp>

#include "actors/inventory.hpp"
#include "adapters/postgres/pool.hpp"

namespace kassa {

namespace pg {
class connection;
} // namespace pg

/// The inventory in PostgreSQL. Each call becomes a db_job for the pool
/// (through a handle to the pool that follows its restarts).
std::shared_ptr<inventory_store> make_pg_inventory_store(db_pool_handle pool);

/// One batch of reservation calls (reserve / release / commit) in one
/// transaction on `conn`, as the store runs it on a pool connection: an
/// answer per call, in order. (Exposed for the integration tests.)
std::vector<provider_result>
apply_reservation_batch(pg::connection& conn,
                        const std::vector<provider_call>& calls);

/// `{"sku","name","price_minor","currency","stock","reserved"}`.
std::string to_json(const product& p);

} // namespace kassa
