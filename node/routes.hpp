#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/inventory.hpp"
#include "actors/order_saga_logic.hpp"
#include "adapters/http/router.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

class database_health;

class metrics_registry;

/// What the HTTP handlers reach: the root supervisor (which delivers to its
/// named children across restarts: for what is off the order path), the
/// order intake and the database pool directly, and the metrics registry.
struct route_context {
  caf::actor supervisor;
  child_handle<order_intake_actor> order_intake;
  db_pool_handle db_pool;
  /// The `sagas` supervisor: a command for one order goes to it, by the
  /// order's id (it is the directory of the node's sagas).
  child_handle<caf::actor> sagas;
  /// The inventory shards (a SKU's shard: `inventory_shard(sku)`).
  std::array<child_handle<inventory_actor>, inventory_shards> inventory;
  metrics_registry* metrics = nullptr;
  caf::actor_system* sys = nullptr;
  /// HMAC key of customer tokens; empty = POST /v1/customer_tokens refuses.
  std::string customer_token_secret;
  /// Every provider connection (root child names), for GET /v1/providers.
  std::vector<std::string> providers;
  /// An order's payment provider when it names none; whether Stripe is
  /// configured; the invoicing provider of new orders.
  std::string payment_provider = "sandbox";
  bool stripe = false;
  std::string invoicing_provider = "sandbox";
  /// Signing secret of POST /v1/webhooks/stripe; empty = 404.
  std::string stripe_webhook_secret;
  /// The sagas' retry policy: an order's steps are folded from its journal
  /// with it when read.
  saga_retry_policy saga_policy;
  /// Test only (`debug.fault_switches`): breaks a part of the node on
  /// purpose; answers an empty string or why it cannot. Null: no
  /// /v1/debug/faults route.
  std::function<std::string(const std::string& fault)> inject_fault;
  /// The node's view of its database, for /readyz (no query per call).
  std::shared_ptr<const database_health> database;
};

/// The node's routing table (API.md). Handlers never block: they answer at
/// once or send the responder to an actor.
router make_routes(const route_context& ctx);

} // namespace kassa
