#pragma once

#include <string>

#include <caf/fwd.hpp>

namespace kassa {

class metrics_registry;

/// The sandbox provider kinds, as in `payment.provider: "sandbox"`.
enum class provider_kind { payment, invoicing, shipping, messaging };

std::string to_string(provider_kind k);

/// Connection name of the sandbox of `kind`: "sandbox-payment", ...
std::string sandbox_name(provider_kind kind);

/// A sandbox provider, in process, behaving like the real one it stands for:
/// the payment sandbox deduplicates by idempotency key as Stripe does; the
/// invoicing sandbox, like Billingo, has none (the saga looks an invoice up
/// by order before issuing it again). Every effect is a row in
/// `sandbox_ledger`, written when the effect happens, so the ledger tells the
/// truth after a kill -9. Protocol:
/// - `(atom::call, provider_call)`: performs it; answers `provider_result`
///   to `call.reply_to` (after `latency_ms`; transient failures from
///   `failure_rate` and `outage` never touch the ledger).
/// - `(atom::chaos, chaos_settings, responder_ptr)`: replaces the chaos
///   settings and answers them as JSON.
/// - `(atom::info) -> std::string`: JSON for GET /v1/providers.
/// Database work goes to the supervisor's `db_pool` child.
caf::actor spawn_sandbox_provider(caf::local_actor* parent, provider_kind kind,
                                  caf::actor supervisor,
                                  metrics_registry* metrics);

} // namespace kassa
