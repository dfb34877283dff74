#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// POST /v1/webhooks/stripe and /v1/webhooks/adyen: signed events from
/// Stripe and Adyen.
void add_webhook_routes(router& r, const route_context& ctx);

} // namespace kassa
