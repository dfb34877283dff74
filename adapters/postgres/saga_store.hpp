#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "actors/order_saga.hpp"

namespace kassa {

/// Sagas in PostgreSQL (tables sagas, saga_events); work goes to the pool.
std::shared_ptr<saga_store> make_pg_saga_store(caf::actor supervisor,
                                               const logger* log);

} // namespace kassa
