#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/contact.hpp"
#include "actors/inventory.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/provider_connection.hpp"
#include "actors/saga_directory.hpp"
#include "actors/stats.hpp"
#include "actors/subscription.hpp"
#include "adapters/cluster/cluster_mesh.hpp"
#include "adapters/http/router.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "node/node_info.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

class database_health;
class key_registry;
class node_clock;
class shard_ownership;

class metrics_registry;

namespace pg {
class connection;
} // namespace pg

/// What the HTTP handlers reach, each through a typed handle given at
/// composition (node/actor_tree.cpp): the order intake, the database pool, the
/// sagas, the inventory shards, the provider connections and the node
/// actor; and the metrics registry.
struct route_context {
  child_handle<node_info_actor> node;
  child_handle<order_intake_actor> order_intake;
  db_pool_handle db_pool;
  /// The `sagas` supervisor: a command for one order goes to it, by the
  /// order's id (it is the directory of the node's sagas).
  saga_directory sagas;
  /// The inventory shards (a SKU's shard: `inventory_shard(sku)`).
  std::array<child_handle<inventory_actor>, inventory_shards> inventory;
  metrics_registry* metrics = nullptr;
  caf::actor_system* sys = nullptr;
  /// HMAC key of customer tokens; empty = POST /v1/customer_tokens refuses.
  std::string customer_token_secret;
  /// Every provider connection by name, for GET /v1/providers and the
  /// sandboxes' chaos.
  std::vector<std::pair<std::string, child_handle<provider_control_actor>>>
    providers;
  /// An order's payment provider when it names none; the processors this
  /// node has (sandbox, and stripe / adyen when configured), and `auto`
  /// when payments.routes is set; the invoicing provider of new orders.
  std::string payment_provider = "sandbox";
  std::vector<std::string> payment_processors{"sandbox"};
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
  /// The shards this node holds (/readyz, commands for an order of
  /// another node's shard). Null: every shard (tests).
  std::shared_ptr<const shard_ownership> ownership;
  /// cluster.lease_ms, for GET /v1/cluster's view of liveness.
  std::chrono::milliseconds lease{3000};
  /// The cluster link (commands for orders held elsewhere go through it)
  /// and each peer's link state; empty without cluster.port.
  child_handle<cluster_mesh_actor> mesh;
  std::shared_ptr<const cluster_links> links;
  /// The HMAC key of POST /v1/webhooks/adyen (its bytes, decoded from
  /// adyen.hmac_key); empty = 404.
  std::string adyen_hmac_key;
  /// The node's clock (billing, jobs); a movable one (clock.test_mode)
  /// adds /v1/test_clock.
  std::shared_ptr<node_clock> clock;
  /// The node's subscriptions (commands go to their actors).
  subscription_directory subscriptions;
  /// The keys the node accepts: read again after POST/DELETE /v1/keys, on
  /// the same connection, before the answer (the change counts at once).
  std::shared_ptr<key_registry> keys;
  /// The statistics (GET /v1/stats).
  child_handle<stats_actor> stats;
  /// The contact service: told when POST /v1/messages stored one.
  child_handle<contact_actor> contact;
  /// Twilio accounts whose status callbacks POST /v1/webhooks/twilio takes:
  /// connection name, account SID, auth token; and the callback URL they
  /// are signed over (twilio.status_callback). Empty: 404.
  struct twilio_account {
    std::string connection, account_sid, auth_token;
  };
  std::vector<twilio_account> twilio_accounts;
  std::string twilio_status_callback;
  /// The notification hub: events a route wrote to the log itself (a
  /// ticket's) are published to it after their commit.
  child_handle<notification_hub_actor> hub;
  /// contact.inbound_secret: the HMAC key of POST /v1/webhooks/email;
  /// empty = 404.
  std::string inbound_email_secret;
};

/// Runs `work` (a store's named statements) on a pool connection and
/// answers `out` with its reply through the edge's table.
void db_answer(const route_context& ctx, responder_ptr out,
               std::function<reply(pg::connection&)> work);

/// The node's routing table (API.md), one file per resource in this folder.
/// Handlers never block: they answer at once, or hand a `reply_via(out)` to
/// an actor or a store, whose domain reply the edge turns into HTTP
/// (adapters/http/replies.hpp: the one table).
router make_routes(const route_context& ctx);

} // namespace kassa
