#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// What is about the node itself: /healthz, /readyz, /metrics,
/// /openapi.yaml, GET /v1/node, and POST /v1/debug/faults when fault
/// switches are on.
void add_system_routes(router& r, const route_context& ctx);

} // namespace kassa
