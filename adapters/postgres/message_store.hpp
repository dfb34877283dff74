#pragma once

// The contact service's tables (migration 0021): the messages outbox, the
// templates and the opt-outs. Blocking functions for pool threads, and the
// outbox the contact actor uses (actors/contact.hpp).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/contact.hpp"
#include "actors/reply.hpp"
#include "adapters/postgres/pool.hpp"

namespace kassa {

namespace pg {
class connection;

/// Stores messages `queued` (POST /v1/messages, an operator's reply): an
/// id stored before is left as it is (`existed`, its status); an opted-out
/// customer's is stored `suppressed`. One entry per request; a database
/// failure fills every entry's `error` (and no `field`).
std::vector<message_stored>
store_messages(connection& conn, const std::vector<message_request>& requests);

/// message_store::prepare: the lookups without a write.
std::vector<message_stored>
prepare_messages(connection& conn,
                 const std::vector<message_request>& requests);

/// message_store::record: one INSERT; an id stored meanwhile keeps its row.
/// Empty, or why not.
std::optional<std::string> record_messages(
  connection& conn,
  const std::vector<std::pair<outbound_message, message_update>>& records);

/// GET /v1/messages/{id}: the message, its status and attempts.
reply read_message(connection& conn, const std::string& id);

/// GET /v1/messages?customer=&status=: the newest first.
reply list_messages(connection& conn, const std::string& customer,
                    const std::string& status, int64_t limit);

/// A provider's delivery report for its message `ref`: `delivered` or
/// `failed` (undelivered) — a sent message takes it; one already delivered
/// or failed keeps its status. Answers the message, 404 when no message of
/// that provider has the ref.
reply record_delivery(connection& conn, const std::string& provider,
                      const std::string& ref, const std::string& status,
                      const std::string& error);

/// POST /v1/templates: the next version of (name, locale).
reply create_template(connection& conn, const std::string& name,
                      const std::string& locale, const std::string& subject,
                      const std::string& body);

/// GET /v1/templates/{name}: every locale's versions, the newest first.
reply read_template(connection& conn, const std::string& name);

/// POST /v1/customers/{id}/opt_outs: `opted_out` false removes it.
reply set_opt_out(connection& conn, const std::string& customer,
                  const std::string& channel, bool opted_out);

/// GET /v1/customers/{id}/opt_outs.
reply list_opt_outs(connection& conn, const std::string& customer);
} // namespace pg

/// The outbox in PostgreSQL; work goes to the pool. Leases are taken in
/// `node`'s name.
std::shared_ptr<message_store> make_pg_message_store(db_pool_handle pool,
                                                     std::string node);

} // namespace kassa
