#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// POST /v1/subscriptions, GET /v1/subscriptions[?customer=&status=],
/// GET /v1/subscriptions/{id}, POST /v1/subscriptions/{id}/pause|resume|
/// cancel|payment_method (issue 22).
void add_subscription_routes(router& r, const route_context& ctx);

} // namespace kassa
