#pragma once

// The reads disputes need: the order of a disputed payment (a processor's
// message may name only the payment) and GET /v1/disputes. Blocking: call on
// a pool worker.

#include <cstdint>
#include <optional>
#include <string>

#include "actors/reply.hpp"

namespace kassa::pg {

class connection;

/// The order whose payment is `payment_ref` (nullopt: none), or a failure.
reply order_of_payment(connection& conn, const std::string& payment_ref,
                       std::optional<std::string>& order_id);

/// Whether `status` is a dispute status (the list's filter).
bool is_dispute_status(const std::string& status);

/// GET /v1/disputes: every dispute as its last event describes it, newest
/// change first, optionally of one `status` and/or one order, at most
/// `limit` (`before`: only those whose last change has a lower log seq — the
/// next page's cursor).
reply list_disputes(connection& conn, const std::string& status,
                    const std::string& order_id, int64_t before, int64_t limit);

} // namespace kassa::pg
