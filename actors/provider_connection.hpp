#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/journal.hpp"
#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"
#include "runtime/adaptive_limit.hpp"
#include "runtime/call_stats.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/circuit_breaker.hpp"
#include "runtime/retry.hpp"

namespace kassa {

class logger;
class metrics_registry;

/// Limits and policies of one provider account.
struct provider_connection_options {
  std::string name;    ///< "sandbox-payment", "stripe", ...
  std::string kind;    ///< payment | invoicing | shipping | messaging
  std::string adapter; ///< sandbox | stripe | billingo
  uint32_t max_in_flight = 64;
  /// The adaptive limit's floor, and what makes a call slow (0: none).
  uint32_t min_in_flight = 4;
  millis slow_call{0};
  double rate_per_s = 0; ///< 0 = unlimited
  double burst = 50;
  millis call_timeout{3000};
  retry_policy retry{4, millis{100}, millis{2000}, millis{5000}};
  breaker_options breaker;
  size_t max_queue = 100000;
  /// Operations that must not be repeated after an unknown outcome (no
  /// idempotency key at the provider: Billingo's invoice). The saga looks
  /// such an effect up before trying again.
  std::vector<std::string> unsafe_ops;
  /// Whether a call may leave the node now (the node still holds the
  /// order's shard on a lease that has not run out: docs/cluster.md). A
  /// call it refuses is answered as a transient failure, not sent, and not
  /// counted against the provider. Empty: every call may.
  std::function<bool(const provider_call&)> may_send;
  /// Where each logical call's outcome and time are tallied for the
  /// statistics (null: nowhere).
  std::shared_ptr<call_recorder> calls;
};

/// Creates the adapter actor the connection drives. The adapter speaks
/// `(atom::call, provider_call)` → `provider_result` to `call.reply_to`,
/// `(atom::info) -> std::string` (a JSON object merged into the
/// connection's own), and optionally `(atom::chaos, chaos_settings,
/// reply_ptr)` (sandboxes).
using adapter_factory = std::function<caf::actor(caf::local_actor* parent)>;

/// The adapter's protocol as the connection holds it (the connection is
/// typed, so every message it sends its adapter is checked against this).
/// `chaos` is for sandboxes: the API sends it to no other adapter.
using provider_adapter_actor
  = caf::typed_actor<caf::reacts_to<atom::call, provider_call>,
                     caf::replies_to<atom::info>::with<std::string>,
                     caf::reacts_to<atom::chaos, chaos_settings, reply_ptr>>;

/// One provider account under supervision: sagas call it, it calls the
/// adapter. It caps calls in flight, rate-limits them (token bucket), gives
/// each a timeout, retries transient failures with full-jitter backoff
/// within a deadline (honouring Retry-After), and keeps a circuit breaker:
/// while the circuit is open it answers `provider_outcome::unavailable` at
/// once with `retry_after_ms`, and the saga parks the step as a durable job.
/// Circuit changes are logged, exported as `kassa_provider_circuit_state`
/// and published as `provider.circuit_*` events on the `providers` topic
/// (through `journal`). Protocol (its `(call, provider_call)` part is
/// `provider_actor`, actors/provider_protocol.hpp):
/// - `(atom::call, provider_call)`: answers `provider_result` with the
///   caller's message id to `call.reply_to`.
/// - `(atom::info) -> std::string`: JSON for GET /v1/providers.
/// - `(atom::chaos, chaos_settings, reply_ptr)`: passed to the adapter.
/// The last two are `provider_control_actor`: what the API asks of a
/// connection, off the order path.
using provider_control_actor
  = caf::typed_actor<caf::replies_to<atom::info>::with<std::string>,
                     caf::reacts_to<atom::chaos, chaos_settings, reply_ptr>>;

caf::actor spawn_provider_connection(caf::local_actor* parent,
                                     provider_connection_options options,
                                     adapter_factory make_adapter,
                                     child_handle<journal_actor> journal,
                                     const logger* log,
                                     metrics_registry* metrics);

} // namespace kassa
