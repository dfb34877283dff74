#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// The contact service (issue 24): POST/GET /v1/messages, GET
/// /v1/messages/{id}, POST /v1/templates, GET /v1/templates/{name}, POST/GET
/// /v1/customers/{id}/opt_outs.
void add_message_routes(router& r, const route_context& ctx);

} // namespace kassa
