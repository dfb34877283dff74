#pragma once

// Every domain message type, registered after the runtime's block
// (adapters/node/system.cpp calls add_message_types for this block).

#include <caf/type_id.hpp>

#include "actors/inventory.hpp"
#include "runtime/type_ids.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(kassa_actors, caf::id_block::kassa_runtime::end)

  CAF_ADD_ATOM(kassa_actors, kassa::atom, create, "create")
  CAF_ADD_ATOM(kassa_actors, kassa::atom, update, "update")

  CAF_ADD_TYPE_ID(kassa_actors, (kassa::product))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::stock_change))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::idempotency))

CAF_END_TYPE_ID_BLOCK(kassa_actors)
