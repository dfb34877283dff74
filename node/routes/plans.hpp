#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// POST /v1/plans, GET /v1/plans, GET /v1/plans/{id}: subscription plans,
/// versioned (issue 22).
void add_plan_routes(router& r, const route_context& ctx);

} // namespace kassa
