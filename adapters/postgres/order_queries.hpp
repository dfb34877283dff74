#pragma once

// The Orders API's reads, as named statements: an order as the API shows it
// (its row and the steps, invoice, payment and shipment folded from its
// journal), a page of orders, an order's events, and an order's status
// before a command goes to its saga. Blocking: call on a pool worker.

#include <cstdint>
#include <optional>
#include <string>

#include "actors/order_saga_logic.hpp"
#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// Every status an order can have (the `status` filter of the list).
bool is_order_status(const std::string& status);

/// GET /v1/orders/{id}: the order, or `order_not_found`.
reply read_order(connection& conn, const std::string& id,
                 const saga_retry_policy& policy);

/// What GET /v1/orders asks for.
struct order_filter {
  std::string status;   ///< empty: any (else through the (stage, id) index)
  std::string customer; ///< empty: any (else the (customer_id, id) index)
  std::string after;    ///< the cursor: ids after (or before) this one
  bool newest_first = false;
  int64_t limit = 50;
};

/// GET /v1/orders: up to `limit` orders past the cursor, with the next one.
reply list_orders(connection& conn, const order_filter& filter,
                  const saga_retry_policy& policy);

/// GET /v1/orders/{id}/events: the order's journal as the API shows it.
reply read_order_events(connection& conn, const std::string& id);

/// The status of order `id` (nullopt: no such order), or a failure.
reply order_status(connection& conn, const std::string& id,
                   std::optional<std::string>& status);

} // namespace kassa::pg
