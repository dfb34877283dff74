#include "node/actor_tree.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/contact.hpp"
#include "actors/inventory.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_saga.hpp"
#include "actors/order_saga_records.hpp"
#include "actors/payment_routing.hpp"
#include "actors/provider_connection.hpp"
#include "actors/saga_jobs.hpp"
#include "actors/saga_placement.hpp"
#include "actors/saga_sweeper.hpp"
#include "actors/subscription.hpp"
#include "adapters/postgres/database_monitor.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/inventory_store.hpp"
#include "adapters/postgres/job_store.hpp"
#include "adapters/postgres/journal.hpp"
#include "adapters/postgres/lease_keeper.hpp"
#include "adapters/postgres/message_store.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "adapters/postgres/stats_store.hpp"
#include "adapters/postgres/subscription_queries.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/providers/sandbox_ledger.hpp"
#include "adapters/type_ids.hpp"
#include "node/config.hpp"
#include "node/node_info.hpp"
#include "node/provider_wiring.hpp"
#include "node/routes/orders.hpp"
#include "runtime/database_health.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/shards.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

actor_tree start_actor_tree(caf::actor_system& sys, const node_config& config,
                            const std::string& node_id,
                            const std::shared_ptr<shard_ownership>& ownership,
                            const std::function<void()>& superseded,
                            const std::vector<real_provider>& real_providers,
                            std::shared_ptr<node_clock> clock,
                            const logger& log, metrics_registry& metrics) {
  supervisor_options sup{"root",
                         static_cast<uint32_t>(config.supervisor.max_restarts),
                         millis{config.supervisor.window_ms},
                         millis{config.supervisor.backoff_initial_ms},
                         millis{config.supervisor.backoff_max_ms}};
  // One view of the database for the whole node: the monitor flips it,
  // everything that talks to PostgreSQL reads it (and reports a loss).
  auto database = std::make_shared<database_health>();
  db_pool_options pool{config.database.url, config.database.pool_size,
                       config.database.connect_timeout_s, database};
  database_monitor_options monitor{
    config.database.url, config.database.connect_timeout_s,
    millis{config.database.check_interval_ms}, millis{100},
    millis{config.database.probe_max_ms}};
  auto db_pool_slot = std::make_shared<child_slot>("db_pool");
  auto node_slot = std::make_shared<child_slot>("node");
  std::vector<child_spec> children{
    {"database_monitor",
     [monitor, database, &log, &metrics](caf::local_actor* parent) {
       return spawn_database_monitor(parent, monitor, database, &log, &metrics);
     }},
    {"db_pool",
     [pool, &log, &metrics](caf::local_actor* parent) {
       return spawn_db_pool(parent, pool, &log, &metrics);
     },
     db_pool_slot},
    {"node",
     [node_id](caf::local_actor* parent) {
       return spawn_node_info(parent, node_identity{node_id, KASSA_VERSION});
     },
     node_slot},
  };
  auto root = spawn_supervisor(sys, sup, std::move(children), &log, &metrics);
  db_pool_handle db{db_pool_slot};
  // Children that need the root's handle are added once it exists; the
  // blocking request is fine here, on the main thread before serving.
  auto inventory_store = make_pg_inventory_store(db);
  std::vector<child_spec> late;
  // The order path's children publish each incarnation in a slot; those
  // who send to them hold typed handles to the slots (child_handle.hpp).
  auto slot_for = [&late](child_spec spec) {
    auto slot = std::make_shared<child_slot>(spec.name);
    spec.slot = slot;
    late.push_back(std::move(spec));
    return slot;
  };
  saga_targets targets;
  std::array<child_handle<inventory_actor>, inventory_shards> inventory;
  // Slots of children added further down that others need a handle to now.
  auto hub_slot = std::make_shared<child_slot>("notification_hub");
  child_handle<notification_hub_actor> hub{hub_slot};
  auto journal_slot = std::make_shared<child_slot>("journal");
  child_handle<journal_actor> journal{journal_slot};
  // No call leaves the node for an order whose shard it may have lost
  // (docs/cluster.md: self-fencing).
  // Every provider call's outcome and time, for the statistics.
  auto calls = std::make_shared<call_recorder>();
  auto may_send = [ownership](const provider_call& call) {
    return call.order_id.empty() || ownership->may_act(call.order_id);
  };
  for (size_t shard = 0; shard < inventory_shards; ++shard) {
    auto slot
      = slot_for({inventory_child_name(shard),
                  [inventory_store, may_send](caf::local_actor* parent) {
                    return spawn_inventory(parent, inventory_store, may_send);
                  }});
    // The sagas see a shard as what performs a step, the routes as a
    // store of products: two views of one protocol.
    targets.inventory[shard] = child_handle<provider_actor>{slot};
    inventory[shard] = child_handle<inventory_actor>{slot};
  }
  // What the API asks of the provider connections (GET /v1/providers).
  std::vector<std::pair<std::string, child_handle<provider_control_actor>>>
    provider_controls;
  sandbox_ledger_options ledger{pool.url, pool.connect_timeout_s, database,
                                ownership};
  child_handle<sandbox_ledger_actor> ledger_handle{
    slot_for({"sandbox_ledger", [ledger](caf::local_actor* parent) {
                return spawn_sandbox_ledger(parent, ledger);
              }})};
  // The payment sandbox's dispute notices go to the order's saga, as a
  // processor's webhook would; the intake is set once the sagas exist.
  auto dispute_intake = std::make_shared<dispute_sink>();
  // The connections that send messages, by name (the contact service's).
  std::map<std::string, child_handle<provider_actor>> messaging;
  for (auto kind : {provider_kind::payment, provider_kind::invoicing,
                    provider_kind::shipping, provider_kind::messaging}) {
    auto options
      = connection_options(config, sandbox_name(kind), kind, "sandbox");
    std::shared_ptr<const dispute_sink> disputes;
    if (kind == provider_kind::payment)
      disputes = dispute_intake;
    // A message is the contact service's to fence (its outbox lease), not
    // the shard's of the order it names.
    if (kind != provider_kind::messaging)
      options.may_send = may_send;
    options.calls = calls;
    auto slot = slot_for(
      {options.name, [options, kind, journal, db, ledger_handle, disputes, &log,
                      &metrics](caf::local_actor* parent) {
         return spawn_provider_connection(
           parent, options,
           [kind, db, ledger_handle, disputes](caf::local_actor* self) {
             return spawn_sandbox_provider(self, kind, db, ledger_handle,
                                           disputes);
           },
           journal, &log, &metrics);
       }});
    child_handle<provider_actor> handle{slot};
    provider_controls.emplace_back(options.name,
                                   child_handle<provider_control_actor>{slot});
    switch (kind) {
      case provider_kind::payment:
        targets.sandbox_payment = handle;
        break;
      case provider_kind::invoicing:
        targets.sandbox_invoicing = handle;
        break;
      case provider_kind::shipping:
        targets.sandbox_shipping = handle;
        break;
      case provider_kind::messaging:
        messaging[options.name] = handle;
        break;
    }
  }
  // The other messaging sandboxes (two SMS providers and a voice one).
  for (auto& name : sandbox_channel_names()) {
    auto options
      = connection_options(config, name, provider_kind::messaging, "sandbox");
    options.calls = calls;
    auto slot = slot_for(
      {name, [options, journal, db, ledger_handle, name, &log,
              &metrics](caf::local_actor* parent) {
         return spawn_provider_connection(
           parent, options,
           [db, ledger_handle, name](caf::local_actor* self) {
             return spawn_sandbox_provider(self, provider_kind::messaging, db,
                                           ledger_handle, {}, name);
           },
           journal, &log, &metrics);
       }});
    messaging[name] = child_handle<provider_actor>{slot};
    provider_controls.emplace_back(name,
                                   child_handle<provider_control_actor>{slot});
  }
  late.push_back(
    {"journal",
     [pool, hub, ownership, &log, &metrics](caf::local_actor* parent) {
       return caf::actor_cast<caf::actor>(
         spawn_journal(parent,
                       journal_options{pool.url, pool.connect_timeout_s,
                                       pool.health, ownership},
                       hub, &log, &metrics));
     },
     journal_slot});
  auto events = make_pg_event_log(db);
  hub_cluster hub_peers{millis{config.cluster.event_tail_ms}, millis{0}, {}};
  child_handle<cluster_mesh_actor> mesh;
  std::shared_ptr<cluster_links> links;
  cluster_node_actor cluster_node;
  auto mesh_slot = std::make_shared<child_slot>("cluster_mesh");
  auto sagas_slot = std::make_shared<child_slot>("sagas");
  // Commands that may need a saga started (a refund of a completed order)
  // reach it through a directory that can start one; the factory is set
  // once the sagas' dependencies are known (below).
  auto saga_start = std::make_shared<saga_starter>();
  saga_directory command_sagas{child_handle<supervisor_actor>{sagas_slot},
                               saga_start};
  if (config.cluster.port != 0) {
    // The cluster link: peers push their events, so a gap waits for them
    // a moment before it is read from the log.
    links = std::make_shared<cluster_links>();
    cluster_mesh_options opts;
    opts.node = node_id;
    opts.incarnation = ownership->incarnation();
    opts.shards = static_cast<uint32_t>(config.cluster.shards);
    opts.seeds = config.cluster.seeds;
    opts.tls = config.cluster.tls();
    opts.refresh = millis{config.cluster.renew_ms};
    opts.lease = millis{config.cluster.lease_ms};
    opts.connect_timeout = millis{config.cluster.link_timeout_ms};
    opts.forward_timeout = millis{config.http.request_timeout_ms};
    // The one actor a peer can reach (published on cluster.port by
    // serve.cpp): it runs forwarded commands as a route here would.
    cluster_node = spawn_cluster_node(
      sys, node_id, ownership->incarnation(),
      child_handle<cluster_mesh_actor>{mesh_slot}, hub,
      [db, sagas = command_sagas,
       ownership](order_command command, const std::string& id, reply_ptr out) {
        saga_command_here(db, sagas, ownership.get(), id, command,
                          std::move(out));
      });
    opts.node_actor = caf::actor_cast<caf::strong_actor_ptr>(cluster_node);
    late.push_back({"cluster_mesh",
                    [opts, db, links, &log, &metrics](caf::local_actor* p) {
                      return spawn_cluster_mesh(p, opts, db, links, &log,
                                                &metrics);
                    },
                    mesh_slot});
    mesh = child_handle<cluster_mesh_actor>{mesh_slot};
    hub_peers.peers = child_handle<event_peers_actor>{mesh_slot};
    hub_peers.gap_wait = millis{50};
  }
  late.push_back(
    {"notification_hub",
     [events, hub_peers, &log, &metrics](caf::local_actor* parent) {
       return spawn_notification_hub(parent, events, &log, &metrics, hub_peers);
     },
     hub_slot});
  order_saga_deps saga_deps;
  auto scheduler_slot = std::make_shared<child_slot>("scheduler");
  saga_deps.scheduler = child_handle<scheduler_actor>{scheduler_slot};
  saga_deps.journal = journal;
  saga_deps.sagas = saga_directory{child_handle<supervisor_actor>{sagas_slot}};
  saga_deps.store = make_pg_saga_store(db, hub, &log);
  saga_deps.log = &log;
  saga_deps.call_timeout = millis{config.orders.call_timeout_ms};
  saga_deps.policy = saga_retry_policy{
    static_cast<uint32_t>(config.orders.max_attempts),
    static_cast<uint32_t>(config.orders.max_compensation_attempts),
    millis{config.orders.retry_initial_ms}, millis{config.orders.retry_max_ms}};
  saga_deps.three_ds_timeout = millis{config.orders.three_ds_timeout_ms};
  saga_deps.capture_timeout = millis{config.orders.authorization_ttl_ms};
  saga_deps.metrics = &metrics;
  saga_deps.max_active = static_cast<size_t>(config.orders.max_active_sagas);
  saga_deps.database = database;
  saga_deps.resume_per_s = static_cast<uint32_t>(config.orders.resume_per_s);
  saga_deps.ownership = ownership;
  saga_deps.clock = clock;
  if (config.debug_fault_switches)
    saga_deps.crash_switch = std::make_shared<std::atomic<bool>>(false);
  // The real providers' connections are among the sagas' targets too.
  for (auto& real : real_providers) {
    auto options = real.options;
    if (options.kind != "messaging")
      options.may_send = may_send;
    options.calls = calls;
    auto slot = slot_for(
      {real.options.name, [options, make_adapter = real.make_adapter, journal,
                           &log, &metrics](caf::local_actor* parent) {
         return spawn_provider_connection(parent, options, make_adapter,
                                          journal, &log, &metrics);
       }});
    child_handle<provider_actor> handle{slot};
    provider_controls.emplace_back(real.options.name,
                                   child_handle<provider_control_actor>{slot});
    if (real.options.name == "stripe")
      targets.stripe = handle;
    else if (real.options.name == "adyen")
      targets.adyen = handle;
    else if (real.options.name == "billingo")
      targets.billingo = handle;
    else if (real.options.kind == "messaging")
      messaging[real.options.name] = handle;
  }
  // The contact service: the sagas' and subscriptions' messages go to it.
  contact_options contact_opts;
  for (auto& [channel, names] : contact_channels(config))
    for (auto& name : names)
      if (auto i = messaging.find(name); i != messaging.end())
        contact_opts.providers[channel].emplace_back(name, i->second);
  contact_opts.policy
    = contact_policy{static_cast<uint32_t>(config.contact.max_attempts),
                     millis{config.contact.retry_initial_ms},
                     millis{config.contact.retry_max_ms}};
  contact_opts.interval = millis{config.contact.interval_ms};
  contact_opts.lease = millis{config.contact.lease_ms};
  contact_opts.call_timeout = contact_opts.lease * 2 / 3;
  contact_opts.batch = static_cast<int>(config.contact.batch);
  contact_opts.max_in_flight
    = static_cast<size_t>(config.contact.max_in_flight);
  contact_opts.log = &log;
  contact_opts.metrics = &metrics;
  auto message_store = make_pg_message_store(db, node_id);
  auto contact_slot = slot_for(
    {"contact", [message_store, contact_opts](caf::local_actor* parent) {
       return caf::actor_cast<caf::actor>(
         spawn_contact(parent, message_store, contact_opts));
     }});
  targets.contact = child_handle<provider_actor>{contact_slot};
  saga_deps.targets = targets;
  late.push_back({"sagas",
                  [saga_deps](caf::local_actor* parent) {
                    return spawn_saga_supervisor(parent, saga_deps);
                  },
                  sagas_slot});
  auto routing = make_payment_routing(config);
  child_handle<order_intake_actor> intake{
    slot_for({"order_intake",
              [db, saga_deps, routing, &metrics](caf::local_actor* parent) {
                return spawn_order_intake(
                  parent, db, saga_deps.sagas.supervisor(),
                  [saga_deps](std::string id, const nlohmann::json& request) {
                    return order_saga_spec(std::move(id), saga_deps,
                                           std::make_shared<const order_data>(
                                             order_from_json(request)));
                  },
                  saga_deps.ownership, routing, &metrics);
              }})};
  // Shard ownership: the keeper renews, takes and gives back leases and
  // tells the placement, which starts and stops the sagas of those shards.
  child_handle<shard_listener_actor> placement{
    slot_for({"saga_placement", [saga_deps](caf::local_actor* parent) {
                return caf::actor_cast<caf::actor>(
                  spawn_saga_placement(parent, saga_deps));
              }})};
  lease_keeper_options leases{
    pool.url,
    pool.connect_timeout_s,
    database,
    millis{config.cluster.lease_ms},
    millis{config.cluster.renew_ms},
    millis{config.cluster.settle_ms},
    static_cast<uint32_t>(config.cluster.handoff_per_round)};
  late.push_back({"lease_keeper", [leases, ownership, placement, superseded,
                                   &log, &metrics](caf::local_actor* parent) {
                    return spawn_lease_keeper(parent, leases, ownership,
                                              placement, superseded, &log,
                                              &metrics);
                  }});
  late.push_back(
    {"saga_sweeper",
     [saga_deps, interval = millis{config.orders.sweep_interval_ms},
      revivals = static_cast<uint32_t>(config.orders.max_revivals)](
       caf::local_actor* parent) {
       return spawn_saga_sweeper(parent, saga_deps, interval, revivals);
     }});
  child_handle<job_handler_actor> saga_jobs{
    slot_for({"saga_jobs", [saga_deps](caf::local_actor* parent) {
                return spawn_saga_jobs(
                  parent, saga_deps.sagas, [saga_deps](std::string id) {
                    return order_saga_spec(std::move(id), saga_deps);
                  });
              }})};
  scheduler_options jobs{millis{config.jobs.poll_interval_ms},
                         millis{config.jobs.lease_ms},
                         static_cast<int>(config.jobs.batch),
                         static_cast<int>(config.jobs.max_running),
                         static_cast<uint32_t>(config.jobs.max_attempts),
                         millis{config.jobs.retry_initial_ms},
                         millis{config.jobs.retry_max_ms},
                         {{"resume_saga", saga_jobs}},
                         [database] {
                           return database->up();
                         }};
  // Subscriptions: a supervisor of their actors (started by jobs and
  // commands, gone when idle) and the handler of their jobs.
  auto subscriptions_slot = std::make_shared<child_slot>("subscriptions");
  subscription_deps sub_deps;
  sub_deps.journal = journal;
  sub_deps.targets = targets;
  sub_deps.scheduler = child_handle<scheduler_actor>{scheduler_slot};
  sub_deps.supervisor = child_handle<supervisor_actor>{subscriptions_slot};
  sub_deps.store = make_pg_subscription_store(db);
  sub_deps.clock = clock;
  {
    std::string why;
    if (auto schedule
        = parse_dunning_schedule(config.subscriptions.dunning_schedule, why))
      sub_deps.dunning.schedule = *schedule;
    sub_deps.dunning.after
      = parse_subscription_status(config.subscriptions.after_dunning)
          .value_or(subscription_status::canceled);
  }
  sub_deps.call_timeout = millis{config.orders.call_timeout_ms};
  sub_deps.log = &log;
  late.push_back({"subscriptions",
                  [max = static_cast<size_t>(config.subscriptions.max_active),
                   database, &log, &metrics](caf::local_actor* parent) {
                    return spawn_subscription_supervisor(parent, max, database,
                                                         &log, &metrics);
                  },
                  subscriptions_slot});
  auto subscription_starter
    = std::make_shared<const std::function<child_spec(std::string)>>(
      [sub_deps](std::string id) {
        return subscription_spec(std::move(id), sub_deps);
      });
  child_handle<job_handler_actor> subscription_jobs{slot_for(
    {"subscription_jobs",
     [subscriptions_slot, subscription_starter](caf::local_actor* parent) {
       return spawn_subscription_jobs(parent, subscriptions_slot,
                                      *subscription_starter);
     }})};
  jobs.handlers.emplace(subscription_job_kind, subscription_jobs);
  auto stats_store = make_pg_stats_store(db, calls);
  stats_options stats_opts{millis{config.stats.interval_ms}, config.stats.batch,
                           &log};
  child_handle<stats_actor> stats{
    slot_for({"stats", [stats_store, stats_opts](caf::local_actor* parent) {
                return caf::actor_cast<caf::actor>(
                  spawn_stats(parent, stats_store, stats_opts));
              }})};
  auto job_store = make_pg_job_store(db, ownership, clock);
  late.push_back({"scheduler",
                  [job_store, jobs, &log, &metrics](caf::local_actor* parent) {
                    return spawn_scheduler(parent, job_store, jobs, &log,
                                           &metrics);
                  },
                  scheduler_slot});
  {
    caf::scoped_actor self{sys};
    for (auto& spec : late)
      self->request(root, caf::infinite, atom::add::value, std::move(spec))
        .receive([](const caf::actor&) {},
                 [&](const caf::error& err) {
                   throw std::runtime_error("cannot start a child: "
                                            + sys.render(err));
                 });
  }
  actor_tree out;
  out.root = root;
  out.database = database;
  out.db = db;
  out.node = child_handle<node_info_actor>{node_slot};
  out.order_intake = intake;
  // The sagas' own dependencies hold a directory without the factory (no
  // cycle through it).
  *dispute_intake = [db, sagas = command_sagas,
                     ownership](dispute_notice notice, reply_ptr out) {
    auto id = notice.order_id;
    saga_command_here(db, sagas, ownership.get(), id,
                      order_command{std::move(notice)}, std::move(out));
  };
  *saga_start = [saga_deps](std::string id) {
    return order_saga_spec(std::move(id), saga_deps);
  };
  out.sagas = command_sagas;
  out.inventory = inventory;
  out.providers = std::move(provider_controls);
  out.hub = hub;
  out.stats = stats;
  out.contact = child_handle<contact_actor>{contact_slot};
  out.mesh = mesh;
  out.cluster_node = cluster_node;
  out.links = links;
  out.saga_policy = saga_deps.policy;
  out.crash_switch = saga_deps.crash_switch;
  out.clock = clock;
  out.subscriptions = subscription_directory{
    child_handle<supervisor_actor>{subscriptions_slot}, subscription_starter};
  return out;
}

} // namespace kassa
