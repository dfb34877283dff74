#pragma once

// Message types that belong to adapters (local only), registered after the
// runtime's block.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/type_id.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/api.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/postgres/shard_leases.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::db_job)
// Local only: an HTTP session waiting for its answer.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::responder_ptr)
// Local only: a parsed request handed from the route to the intake.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::order_request_ptr)

CAF_BEGIN_TYPE_ID_BLOCK(kassa_adapters, caf::id_block::kassa_actors::end)

  CAF_ADD_TYPE_ID(kassa_adapters, (kassa::db_job))
  CAF_ADD_TYPE_ID(kassa_adapters, (kassa::responder_ptr))
  CAF_ADD_TYPE_ID(kassa_adapters, (kassa::order_request_ptr))
  CAF_ADD_TYPE_ID(kassa_adapters, (kassa::pg::cluster_map))

CAF_END_TYPE_ID_BLOCK(kassa_adapters)
