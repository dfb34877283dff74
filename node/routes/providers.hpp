#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// Provider connections: GET /v1/providers (every connection's state), and
/// the sandboxes' control: POST /v1/providers/{name}/chaos, GET
/// /v1/providers/{name}/ledger.
void add_provider_routes(router& r, const route_context& ctx);

} // namespace kassa
