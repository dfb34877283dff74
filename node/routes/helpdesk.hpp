#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// The helpdesk (issue 24): POST/GET /v1/customers, GET /v1/customers/{id},
/// POST/GET /v1/tickets, GET /v1/tickets/{id}, POST
/// /v1/tickets/{id}/messages|status|assign, POST /v1/webhooks/email (a
/// customer's e-mail reply, signed).
void add_helpdesk_routes(router& r, const route_context& ctx);

} // namespace kassa
