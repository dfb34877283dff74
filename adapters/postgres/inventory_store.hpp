#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "actors/inventory.hpp"

namespace kassa {

/// The inventory in PostgreSQL. Each call becomes a db_job for the pool
/// (reached through the supervisor, so a restarted pool is found again).
std::shared_ptr<inventory_store> make_pg_inventory_store(caf::actor supervisor);

/// `{"sku","name","price_minor","currency","stock","reserved"}`.
std::string to_json(const product& p);

} // namespace kassa
