#pragma once

#include "node/routes/routes.hpp"

namespace kassa {

/// The Orders API of API.md: POST /v1/orders (validated here, created by
/// the order intake), GET /v1/orders/{id}, GET /v1/orders, GET
/// /v1/orders/{id}/events (adapters/postgres/order_queries), POST
/// /v1/orders/{id}/cancel and /payment/confirm (to the order's saga).
void add_order_routes(router& r, const route_context& ctx);

/// Sends `(command, out)` to the saga of order `id` once the database says
/// the order exists and is not finished (`order_not_found` /
/// `order_finished` otherwise).
void saga_command(const route_context& ctx, const std::string& id,
                  caf::atom_value command, reply_ptr out);

} // namespace kassa
