#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// Durable jobs: GET /v1/jobs?status=&kind=&after=&limit=, and an
/// operator's POST /v1/jobs/{id}/retry (a dead one revived) and .../cancel.
void add_job_routes(router& r, const route_context& ctx);

} // namespace kassa
