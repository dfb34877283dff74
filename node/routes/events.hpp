#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// The notification log: GET /v1/events?after=&topic=&limit=, and POST
/// /v1/customer_tokens (a token that scopes a subscriber to one customer's
/// topic).
void add_event_routes(router& r, const route_context& ctx);

} // namespace kassa
