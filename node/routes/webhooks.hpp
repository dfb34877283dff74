#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// POST /v1/webhooks/stripe: signed events from Stripe.
void add_webhook_routes(router& r, const route_context& ctx);

} // namespace kassa
