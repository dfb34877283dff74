#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/reply.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/providers/sandbox_ledger.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

/// The sandbox provider kinds, as in `payment.provider: "sandbox"`.
enum class provider_kind { payment, invoicing, shipping, messaging };

std::string to_string(provider_kind k);

/// Connection name of the sandbox of `kind`: "sandbox-payment", ...
std::string sandbox_name(provider_kind kind);

/// A sandbox provider adapter, in process, behaving like the real one it
/// stands for: the payment sandbox deduplicates by idempotency key as Stripe
/// does; the invoicing sandbox, like Billingo, has none (the saga looks an
/// invoice up by order before issuing it again). Every effect is a row in
/// `sandbox_ledger`, written when the effect happens, so the ledger tells the
/// truth after a kill -9. Its chaos settings are stored (`sandbox_chaos`), so
/// an outage outlives a restart of the node. A `provider_connection` drives
/// it. Protocol:
/// - `(atom::call, provider_call)`: performs it; answers `provider_result`
///   to `call.reply_to` (after `latency_ms`; transient failures from
///   `failure_rate` and `outage` never touch the ledger).
/// - `(atom::chaos, chaos_settings, reply_ptr)`: stores and applies the
///   chaos settings and answers them as JSON.
/// - `(atom::info) -> std::string`: `{"chaos":{...}}`.
/// Effects go to `ledger` (one writer for the four sandboxes,
/// sandbox_ledger.hpp), the chaos settings to `pool`.
caf::actor spawn_sandbox_provider(caf::local_actor* parent, provider_kind kind,
                                  db_pool_handle pool,
                                  child_handle<sandbox_ledger_actor> ledger);

namespace pg {
class connection;
} // namespace pg

/// GET /v1/providers/{name}/ledger: the effects sandbox `provider` made,
/// optionally of one order, in order. Blocking: call on a pool worker.
reply read_sandbox_ledger(pg::connection& conn, const std::string& provider,
                          const std::string& order_id);

} // namespace kassa
