#pragma once

#include "actors/dispute_notice.hpp"
#include "node/routes/routes.hpp"

namespace kassa {

/// GET /v1/disputes: the disputes of orders' payments.
void add_dispute_routes(router& r, const route_context& ctx);

/// Takes a processor's dispute notice to its order's saga (found by the
/// payment's id when the notice does not name the order), which journals
/// it and answers `done` (`{"result": "recorded" | "duplicate", ...}`);
/// `order_not_found` when no order has that payment.
void deliver_dispute(const route_context& ctx, dispute_notice notice,
                     reply_ptr out);

} // namespace kassa
