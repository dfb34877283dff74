#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// Durable jobs: GET /v1/jobs?status=&after=&limit=.
void add_job_routes(router& r, const route_context& ctx);

} // namespace kassa
