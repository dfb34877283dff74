#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// GET /v1/stats?from=&to=&granularity=hour|day|month (issue 23).
void add_stats_routes(router& r, const route_context& ctx);

} // namespace kassa
