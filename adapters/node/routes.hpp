#pragma once

#include <caf/actor.hpp>

#include "adapters/http/router.hpp"

namespace kassa {

class metrics_registry;

/// What the HTTP handlers reach: the root supervisor (which delivers to its
/// named children across restarts) and the metrics registry.
struct route_context {
  caf::actor supervisor;
  metrics_registry* metrics = nullptr;
};

/// The node's routing table (API.md). Handlers never block: they answer at
/// once or send the responder to an actor.
router make_routes(const route_context& ctx);

} // namespace kassa
