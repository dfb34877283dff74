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
/// `order_finished` otherwise) — on this node when it holds the order's
/// shard, else on the node that does, over the cluster link (`not_owner`,
/// a 503, when no node can take it now).
void saga_command(const route_context& ctx, const std::string& id,
                  order_command command, reply_ptr out);

/// The same on this node only: `not_owner` unless it holds the shard (what
/// a command forwarded by a peer runs). `ownership` null: every shard.
void saga_command_here(const db_pool_handle& db, const saga_directory& sagas,
                       const shard_ownership* ownership, const std::string& id,
                       order_command command, reply_ptr out);

} // namespace kassa
