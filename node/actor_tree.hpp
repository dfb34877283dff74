#pragma once

// The node's actor tree: the root supervisor and its children, each given
// the typed handles it needs at composition (docs/architecture.md, "The
// actor tree"). serve.cpp starts it and hands its handles to the routes.

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/contact.hpp"
#include "actors/inventory.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/provider_connection.hpp"
#include "actors/saga_directory.hpp"
#include "actors/stats.hpp"
#include "actors/subscription.hpp"
#include "adapters/cluster/cluster_mesh.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "adapters/postgres/pool.hpp"
#include "node/node_info.hpp"
#include "runtime/child_handle.hpp"

namespace kassa {

class database_health;
class logger;
class metrics_registry;
class node_clock;
class shard_ownership;
struct node_config;
struct real_provider;

/// The handles of a started tree that the edge (routes, WebSocket) uses.
struct actor_tree {
  caf::actor root;
  /// The node's one view of its database (the monitor flips it).
  std::shared_ptr<database_health> database;
  db_pool_handle db;
  child_handle<node_info_actor> node;
  child_handle<order_intake_actor> order_intake;
  /// The sagas supervisor (the directory of the node's sagas).
  saga_directory sagas;
  std::array<child_handle<inventory_actor>, inventory_shards> inventory;
  /// Every provider connection by name (sandboxes first).
  std::vector<std::pair<std::string, child_handle<provider_control_actor>>>
    providers;
  child_handle<notification_hub_actor> hub;
  /// The cluster mesh and each peer's link; empty without cluster.port.
  child_handle<cluster_mesh_actor> mesh;
  std::shared_ptr<cluster_links> links;
  /// What serve.cpp publishes on cluster.port (not supervised: the port
  /// maps to it for the process's life); null without cluster.port.
  cluster_node_actor cluster_node;
  saga_retry_policy saga_policy;
  /// The node's clock (a movable one with clock.test_mode).
  std::shared_ptr<node_clock> clock;
  subscription_directory subscriptions;
  child_handle<stats_actor> stats;
  child_handle<contact_actor> contact;
  /// Set with debug.fault_switches: makes every saga crash while true.
  std::shared_ptr<std::atomic<bool>> crash_switch;
};

/// Spawns the root supervisor with every child and waits until each has
/// started (on the calling thread, before the node serves); throws when a
/// child cannot start.
/// `ownership`: the shards the node joined with (node/cluster.hpp); the
/// lease keeper keeps it from here and calls `superseded` when another
/// process took the node's name. `clock`: the node's (billing, jobs).
actor_tree start_actor_tree(caf::actor_system& sys, const node_config& config,
                            const std::string& node_id,
                            const std::shared_ptr<shard_ownership>& ownership,
                            const std::function<void()>& superseded,
                            const std::vector<real_provider>& real_providers,
                            std::shared_ptr<node_clock> clock,
                            const logger& log, metrics_registry& metrics);

} // namespace kassa
