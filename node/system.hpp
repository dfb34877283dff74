#pragma once

#include <caf/fwd.hpp>

namespace kassa {

struct node_config;

/// Registers every kassa message type, atom and error category, and applies
/// the scheduler settings. The one place that knows all type id blocks.
void configure_actor_system(caf::actor_system_config& cfg,
                            const node_config& config);

/// The same registration without node settings (unit tests).
void register_kassa_types(caf::actor_system_config& cfg);

} // namespace kassa
