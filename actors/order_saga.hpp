#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/inventory.hpp"
#include "actors/journal.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/order_saga_records.hpp"
#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"
#include "actors/saga_directory.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

class database_health;
class node_clock;
class shard_ownership;

class logger;
class metrics_registry;

/// Where sagas are stored (adapters/postgres implements it). Calls return at
/// once; answers arrive as messages or callbacks from another thread.
class saga_store {
public:
  virtual ~saga_store() = default;
  /// Sends `(atom::loaded, std::string request_json,
  /// std::vector<journal_entry>)` to `reply_to`, or an error message.
  virtual void load(std::string order_id, caf::actor reply_to) = 0;
  /// Calls `done` with the ids of every saga not yet terminal.
  virtual void unfinished(std::function<void(std::vector<std::string>)> done)
    = 0;
  /// Marks the live saga `order_id` failed for good: an `order.failed`
  /// event with `reason` after its last journal entry and status `failed`,
  /// in one transaction, published to subscribers like every entry. For a
  /// saga no actor could drive (the sweeper gives up on it): nothing is
  /// compensated — a person looks at it. `done("")` once written (or the
  /// saga was terminal already), else `done(why not)`.
  virtual void give_up(std::string order_id, std::string reason,
                       std::function<void(std::string error)> done)
    = 0;
};

/// What every order saga is given.
struct order_data; // actors/order_saga_records.hpp

/// Everything that performs a saga's steps, by what it is (no lookup by
/// name per call). An empty handle: not on this node (stripe, billingo
/// when not configured: the intake refuses orders for them).
struct saga_targets {
  std::array<child_handle<provider_actor>, inventory_shards> inventory;
  child_handle<provider_actor> sandbox_payment;
  child_handle<provider_actor> stripe;
  child_handle<provider_actor> adyen;
  child_handle<provider_actor> sandbox_invoicing;
  child_handle<provider_actor> billingo;
  child_handle<provider_actor> sandbox_shipping;
  /// The contact service (actors/contact.hpp): a message call is stored
  /// there and sent by it through the channel's providers.
  child_handle<provider_actor> contact;

  const child_handle<provider_actor>& at(const call_route& route) const;
};

struct order_saga_deps {
  /// Where the saga's own messages go, each straight to the current
  /// incarnation of a root child (runtime/child_handle.hpp): its journal,
  /// what performs its steps, the `sagas` supervisor (idle reports) and
  /// the scheduler (a durable job when a saga parks).
  child_handle<journal_actor> journal;
  saga_targets targets;
  saga_directory sagas;
  child_handle<scheduler_actor> scheduler;
  std::shared_ptr<saga_store> store;
  saga_retry_policy policy;
  /// A provider call without an answer after this long counts as a
  /// transient failure (and is retried with the same idempotency key).
  std::chrono::milliseconds call_timeout{10000};
  /// An order waiting for 3-D Secure longer than this is compensated.
  std::chrono::milliseconds three_ds_timeout{900000};
  /// An authorization not captured within this long is voided.
  std::chrono::milliseconds capture_timeout{604800000};
  const logger* log = nullptr;
  metrics_registry* metrics = nullptr;
  /// Sagas working at once (0 = no limit); see supervisor_options.
  size_t max_active = 1000;
  /// The node's view of the database: a saga that stops while it is down
  /// (or because it is) pauses instead of crashing, and resumes when it is
  /// back, at most `resume_per_s` sagas a second. Null: no pausing (tests).
  std::shared_ptr<const database_health> database;
  uint32_t resume_per_s = 4000;
  /// The shards this node holds: only their sagas run here (started at
  /// start, by the sweeper and when shards are taken; stopped when lost).
  /// Null: every saga is this node's (tests without a cluster).
  std::shared_ptr<const shard_ownership> ownership;
  /// Test only (debug.fault_switches): while it is set, a saga whose
  /// customer id starts with "crash" throws as soon as it has loaded —
  /// so its supervisor drops it past its restart budget.
  std::shared_ptr<std::atomic<bool>> crash_switch;
  /// The node's clock: the waits above (3-D Secure, an authorization's
  /// capture) end when it says so — a test clock moved on ends them early
  /// (clock.test_mode). Null: the machine's.
  std::shared_ptr<const node_clock> clock;
};

/// One order saga. On start it loads its request and journal (through the
/// root's `db_pool`), replays the journal into `saga_state`, and resumes:
/// every transition is journaled before the effect it causes is sent, and a
/// step that started without a recorded result runs again under the same
/// idempotency key (invoices are looked up by order first). It exits
/// normally once terminal. Protocol:
/// - `provider_result`: the answer to the call in flight (matched by
///   message id; stale or duplicate answers are ignored).
/// - `(atom::cancel, reply_ptr)`: accepted, or `order_not_cancellable`
///   once shipped or finished.
/// - `(atom::confirm, std::string details, reply_ptr)`: the customer
///   finished 3-D Secure (`details`: what the shopper's return carried,
///   JSON, for processors that need it; "" = nothing)
///   (accepted, or `not_waiting`).
/// `created`: the order of a saga created a moment ago (its journal is
/// still empty), so the new saga need neither read back what was just
/// written nor parse its request; null = load from the store.
caf::actor spawn_order_saga(caf::local_actor* parent, std::string order_id,
                            const order_saga_deps& deps,
                            std::shared_ptr<const order_data> created = {});

/// The child name (the order id) and factory for the saga supervisor. With
/// `created`, the first start skips the load (see above); a restart always
/// loads from the journal.
child_spec order_saga_spec(std::string order_id, order_saga_deps deps,
                           std::shared_ptr<const order_data> created = {});

/// Spawns the supervisor of all sagas: it restarts a crashed saga (which
/// resumes from its journal) and, at start, asks the store for every
/// unfinished saga and starts it.
caf::actor spawn_saga_supervisor(caf::local_actor* parent,
                                 order_saga_deps deps);

} // namespace kassa
