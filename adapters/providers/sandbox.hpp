#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/dispute_notice.hpp"
#include "actors/reply.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/providers/sandbox_ledger.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

/// Where the payment sandbox sends its dispute notices (the node's dispute
/// intake; `out` answers whether it was taken).
using dispute_sink = std::function<void(dispute_notice notice, reply_ptr out)>;

/// The sandbox provider kinds, as in `payment.provider: "sandbox"`.
enum class provider_kind { payment, invoicing, shipping, messaging };

std::string to_string(provider_kind k);

/// Connection name of the sandbox of `kind`: "sandbox-payment", ...
std::string sandbox_name(provider_kind kind);

/// The messaging sandboxes beside `sandbox-messaging` (which sends
/// e-mail): two SMS providers, so a failover can be seen, and a voice one.
const std::vector<std::string>& sandbox_channel_names();

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
                                  child_handle<sandbox_ledger_actor> ledger,
                                  std::shared_ptr<const dispute_sink> disputes
                                  = {},
                                  std::string name = {});

/// Payment tokens that charge like `tok_ok` and then dispute the payment
/// once money was taken (a sale, or the capture of an authorization):
/// `tok_dispute` opens a dispute; `tok_chargeback` opens one, withdraws
/// the funds and closes it lost. As a processor's webhooks would, the
/// payment sandbox sends the notices to `disputes`, in order, each until
/// it is taken (a failure is tried again every 500 ms, 20 times).
bool is_dispute_token(const std::string& token);

/// The notices a dispute token's payment `payment_ref` of order `order_id`
/// leads to (empty for other tokens).
std::vector<dispute_notice>
sandbox_dispute_notices(const std::string& token, const std::string& order_id,
                        const std::string& payment_ref, int64_t amount_minor,
                        const std::string& currency);

namespace pg {
class connection;
} // namespace pg

/// GET /v1/providers/{name}/ledger: the effects sandbox `provider` made,
/// optionally of one order, in order. Blocking: call on a pool worker.
reply read_sandbox_ledger(pg::connection& conn, const std::string& provider,
                          const std::string& order_id);

} // namespace kassa
