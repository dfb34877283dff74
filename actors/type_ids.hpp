#pragma once

// Every domain message type, registered after the runtime's block
// (node/system.cpp calls add_message_types for this block).

#include <caf/type_id.hpp>

#include "actors/atoms.hpp"
#include "actors/contact_logic.hpp"
#include "actors/dispute_notice.hpp"
#include "actors/inventory.hpp"
#include "actors/journal.hpp"
#include "actors/notification.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_command.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/payment_notice.hpp"
#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"
#include "actors/subscription_command.hpp"
#include "runtime/type_ids.hpp"

// Local-only: a sink is a connection on this node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::event_sink_ptr)
// Local-only: where a command's reply goes (an HTTP session here).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kassa::reply_ptr)

CAF_BEGIN_TYPE_ID_BLOCK(kassa_actors, caf::id_block::kassa_runtime::end)

  CAF_ADD_TYPE_ID(kassa_actors, (kassa::journal_entry))
  CAF_ADD_TYPE_ID(kassa_actors, (std::vector<kassa::journal_entry>))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::published_event))
  CAF_ADD_TYPE_ID(kassa_actors, (std::vector<kassa::published_event>))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::product))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::stock_change))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::idempotency))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::order_line))
  CAF_ADD_TYPE_ID(kassa_actors, (std::vector<kassa::order_line>))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::provider_call))
  CAF_ADD_TYPE_ID(kassa_actors, (std::vector<kassa::provider_call>))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::provider_result))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::provider_replies))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::chaos_settings))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::event_sink_ptr))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::reply_ptr))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::reply))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::order_command))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::dispute_notice))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::payment_notice))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::subscription_command))
  CAF_ADD_TYPE_ID(kassa_actors, (kassa::outbound_message))
  CAF_ADD_TYPE_ID(kassa_actors, (std::vector<kassa::outbound_message>))

CAF_END_TYPE_ID_BLOCK(kassa_actors)
