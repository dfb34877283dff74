#include "node/serve.hpp"

#include <atomic>
#include <ctime>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/inventory.hpp"
#include "actors/notification_hub.hpp"
#include "actors/order_saga.hpp"
#include "actors/order_saga_records.hpp"
#include "actors/provider_connection.hpp"
#include "actors/saga_jobs.hpp"
#include "actors/saga_sweeper.hpp"
#include "adapters/http/api_pipeline.hpp"
#include "adapters/http/customer_token.hpp"
#include "adapters/http/server.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/database_monitor.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/inventory_store.hpp"
#include "adapters/postgres/job_store.hpp"
#include "adapters/postgres/journal.hpp"
#include "adapters/postgres/migrations.hpp"
#include "adapters/postgres/order_intake.hpp"
#include "adapters/postgres/pool.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/providers/sandbox_ledger.hpp"
#include "adapters/type_ids.hpp"
#include "adapters/ws/ws_endpoint.hpp"
#include "node/config.hpp"
#include "node/exit_guard.hpp"
#include "node/hub_client.hpp"
#include "node/node_info.hpp"
#include "node/provider_wiring.hpp"
#include "node/routes/routes.hpp"
#include "node/system.hpp"
#include "runtime/database_health.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/supervisor.hpp"

namespace kassa {

namespace {

std::string default_node_id() {
  char host[256] = "node";
  gethostname(host, sizeof(host) - 1);
  return std::string{host} + "-" + std::to_string(getpid());
}

/// Connects and migrates; returns an empty string or the one-line reason.
std::string prepare_database(const node_config& config, const logger& log) {
  if (config.database.url.empty())
    return "database.url: required (set KASSA_DATABASE_URL or "
           "--database-url)";
  pg::connection conn;
  if (auto err = pg::connection::open(config.database.url,
                                      config.database.connect_timeout_s, conn))
    return "database unreachable: " + err->message;
  pg::migration_report report;
  auto failure = pg::apply_migrations(conn, pg::embedded_migrations(), report);
  if (!failure.empty())
    return failure;
  for (auto& name : report.applied)
    log.info("migrate", "applied migration", {{"migration", name}});
  log.info("migrate", "schema up to date",
           {{"version", std::to_string(report.schema_version)}});
  return {};
}

} // namespace

int migrate(const node_config& config, const logger& log) {
  auto failure = prepare_database(config, log);
  if (!failure.empty()) {
    std::cerr << "kassa migrate: " << failure << '\n';
    return 1;
  }
  return 0;
}

int serve(const node_config& config, const logger& log) {
  // Before any thread exists: the guard's thread alone takes SIGTERM/SIGINT.
  exit_guard::block_signals();
  std::atomic<http_server*> serving{nullptr};
  exit_guard guard{
    log,
    [&serving] {
      if (auto s = serving.load())
        s->stop();
    },
    millis{config.shutdown_grace_ms + config.shutdown_exit_timeout_ms}};
  auto node_id = config.node_id.empty() ? default_node_id() : config.node_id;
  if (auto failure = prepare_database(config, log); !failure.empty()) {
    std::cerr << "kassa serve: " << failure << '\n';
    log.error("node", failure);
    return 1;
  }
  if (config.cluster.port != 0 || !config.cluster.seeds.empty())
    log.warn("node", "cluster.port and cluster.seeds are accepted but "
                     "clustering is not implemented yet; running alone");
  // Real provider adapters (their HTTP clients own an I/O thread each).
  metrics_registry metrics;
  std::vector<real_provider> real_providers;
  if (auto failure = make_real_providers(config, real_providers,
                                         fault_reporter{&log, &metrics});
      !failure.empty()) {
    std::cerr << "kassa serve: " << failure << '\n';
    log.error("node", failure);
    return 2;
  }
  bool stripe_enabled = false;
  bool billingo_enabled = false;
  for (auto& p : real_providers) {
    stripe_enabled |= p.options.name == "stripe";
    billingo_enabled |= p.options.name == "billingo";
  }
  if (config.orders.payment_provider == "stripe" && !stripe_enabled) {
    std::cerr << "kassa serve: orders.payment_provider: stripe needs "
                 "stripe.secret_key or stripe.secret_key_file\n";
    return 2;
  }
  if (config.orders.invoicing_provider == "billingo" && !billingo_enabled) {
    std::cerr << "kassa serve: orders.invoicing_provider: billingo needs "
                 "billingo.api_key or billingo.api_key_file\n";
    return 2;
  }
  // Declared before the actor system so it outlives every actor that might
  // still post an answer to one of its connections.
  http_server_options http_options;
  http_options.bind = config.http.bind;
  http_options.port = config.http.port;
  http_options.io_threads = config.http.io_threads;
  http_options.body_limit_bytes = config.http.body_limit_bytes;
  http_options.request_timeout = millis{config.http.request_timeout_ms};
  http_options.idle_timeout = millis{config.http.idle_timeout_ms};
  http_options.shutdown_grace = millis{config.shutdown_grace_ms};
  http_options.header_timeout = millis{config.http.header_timeout_ms};
  http_options.body_timeout = millis{config.http.body_timeout_ms};
  http_options.max_connections
    = static_cast<size_t>(config.http.max_connections);
  http_options.linger = millis{config.http.linger_ms};
  http_server server{http_options, log, metrics};
  // The guard's thread may call stop() until this scope ends.
  struct unpublish {
    std::atomic<http_server*>& slot;
    ~unpublish() {
      slot = nullptr;
    }
  } unpublish_server{serving};
  serving = &server;
  if (auto failure = server.listen(); !failure.empty()) {
    std::cerr << "kassa serve: " << failure << '\n';
    log.error("node", failure);
    return 1;
  }
  caf::actor_system_config cfg;
  configure_actor_system(cfg, config);
  caf::actor_system sys{cfg};
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
  for (size_t shard = 0; shard < inventory_shards; ++shard) {
    auto slot = slot_for({inventory_child_name(shard),
                          [inventory_store](caf::local_actor* parent) {
                            return spawn_inventory(parent, inventory_store);
                          }});
    // The sagas see a shard as what performs a step, the routes as a
    // store of products: two views of one protocol.
    targets.inventory[shard] = child_handle<provider_actor>{slot};
    inventory[shard] = child_handle<inventory_actor>{slot};
  }
  // What the API asks of the provider connections (GET /v1/providers).
  std::vector<std::pair<std::string, child_handle<provider_control_actor>>>
    provider_controls;
  sandbox_ledger_options ledger{pool.url, pool.connect_timeout_s, database};
  child_handle<sandbox_ledger_actor> ledger_handle{
    slot_for({"sandbox_ledger", [ledger](caf::local_actor* parent) {
                return spawn_sandbox_ledger(parent, ledger);
              }})};
  for (auto kind : {provider_kind::payment, provider_kind::invoicing,
                    provider_kind::shipping, provider_kind::messaging}) {
    auto options
      = connection_options(config, sandbox_name(kind), kind, "sandbox");
    auto slot = slot_for(
      {options.name, [options, kind, journal, db, ledger_handle, &log,
                      &metrics](caf::local_actor* parent) {
         return spawn_provider_connection(
           parent, options,
           [kind, db, ledger_handle](caf::local_actor* self) {
             return spawn_sandbox_provider(self, kind, db, ledger_handle);
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
        targets.sandbox_messaging = handle;
        break;
    }
  }
  late.push_back(
    {"journal",
     [pool, hub, &log, &metrics](caf::local_actor* parent) {
       return caf::actor_cast<caf::actor>(spawn_journal(
         parent, journal_options{pool.url, pool.connect_timeout_s, pool.health},
         hub, &log, &metrics));
     },
     journal_slot});
  auto events = make_pg_event_log(db);
  late.push_back({"notification_hub",
                  [events, &log, &metrics](caf::local_actor* parent) {
                    return spawn_notification_hub(parent, events, &log,
                                                  &metrics);
                  },
                  hub_slot});
  order_saga_deps saga_deps;
  saga_deps.root = root;
  saga_deps.journal = journal;
  auto sagas_slot = std::make_shared<child_slot>("sagas");
  saga_deps.sagas = child_handle<caf::actor>{sagas_slot};
  saga_deps.store = make_pg_saga_store(db, hub, &log);
  saga_deps.log = &log;
  saga_deps.call_timeout = millis{config.orders.call_timeout_ms};
  saga_deps.policy = saga_retry_policy{
    static_cast<uint32_t>(config.orders.max_attempts),
    static_cast<uint32_t>(config.orders.max_compensation_attempts),
    millis{config.orders.retry_initial_ms}, millis{config.orders.retry_max_ms}};
  saga_deps.three_ds_timeout = millis{config.orders.three_ds_timeout_ms};
  saga_deps.metrics = &metrics;
  saga_deps.max_active = static_cast<size_t>(config.orders.max_active_sagas);
  saga_deps.database = database;
  saga_deps.resume_per_s = static_cast<uint32_t>(config.orders.resume_per_s);
  if (config.debug_fault_switches)
    saga_deps.crash_switch = std::make_shared<std::atomic<bool>>(false);
  // The real providers' connections are among the sagas' targets too.
  for (auto& real : real_providers) {
    auto slot
      = slot_for({real.options.name,
                  [real, journal, &log, &metrics](caf::local_actor* parent) {
                    return spawn_provider_connection(parent, real.options,
                                                     real.make_adapter, journal,
                                                     &log, &metrics);
                  }});
    child_handle<provider_actor> handle{slot};
    provider_controls.emplace_back(real.options.name,
                                   child_handle<provider_control_actor>{slot});
    if (real.options.name == "stripe")
      targets.stripe = handle;
    else if (real.options.name == "billingo")
      targets.billingo = handle;
  }
  saga_deps.targets = targets;
  late.push_back({"sagas",
                  [saga_deps](caf::local_actor* parent) {
                    return spawn_saga_supervisor(parent, saga_deps);
                  },
                  sagas_slot});
  child_handle<order_intake_actor> intake{slot_for(
    {"order_intake", [db, saga_deps, &metrics](caf::local_actor* parent) {
       return spawn_order_intake(
         parent, db, saga_deps.sagas,
         [saga_deps](std::string id, const nlohmann::json& request) {
           return order_saga_spec(
             std::move(id), saga_deps,
             std::make_shared<const order_data>(order_from_json(request)));
         },
         &metrics);
     }})};
  late.push_back(
    {"saga_sweeper",
     [saga_deps, interval = millis{config.orders.sweep_interval_ms},
      revivals = static_cast<uint32_t>(config.orders.max_revivals)](
       caf::local_actor* parent) {
       return spawn_saga_sweeper(parent, saga_deps, interval, revivals);
     }});
  late.push_back({"saga_jobs", [saga_deps](caf::local_actor* parent) {
                    return spawn_saga_jobs(
                      parent, saga_deps.sagas, [saga_deps](std::string id) {
                        return order_saga_spec(std::move(id), saga_deps);
                      });
                  }});
  scheduler_options jobs{millis{config.jobs.poll_interval_ms},
                         millis{config.jobs.lease_ms},
                         64,
                         256,
                         static_cast<uint32_t>(config.jobs.max_attempts),
                         millis{config.jobs.retry_initial_ms},
                         millis{config.jobs.retry_max_ms},
                         {{"resume_saga", "saga_jobs"}},
                         [database] {
                           return database->up();
                         }};
  auto job_store = make_pg_job_store(db);
  late.push_back(
    {"scheduler",
     [root, job_store, jobs, &log, &metrics](caf::local_actor* parent) {
       return spawn_scheduler(parent, root, job_store, jobs, &log, &metrics);
     }});
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
  std::atomic<bool> escalated{false};
  const millis stop_bound{config.shutdown_grace_ms
                          + config.shutdown_exit_timeout_ms};
  root->attach_functor([&, stop_bound](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::user_shutdown) {
      escalated = true;
      log.error("node", "root supervisor gave up; stopping the node",
                {{"reason", sys.render(reason)}});
      guard.arm(stop_bound);
      server.stop();
    }
  });
  route_context routes{child_handle<node_info_actor>{node_slot},
                       intake,
                       db,
                       saga_deps.sagas,
                       inventory,
                       &metrics,
                       &sys,
                       config.ws.customer_token_secret,
                       provider_controls,
                       config.orders.payment_provider,
                       stripe_enabled,
                       config.orders.invoicing_provider,
                       config.stripe.webhook_secret,
                       saga_deps.policy,
                       {},
                       database};
  if (config.debug_fault_switches) {
    log.warn("node", "debug.fault_switches is on: POST /v1/debug/faults "
                     "breaks this node on request (tests only)");
    routes.inject_fault = [&server, &sys, crash = saga_deps.crash_switch](
                            const std::string& fault) -> std::string {
      if (fault == "saga_crash" || fault == "saga_heal") {
        crash->store(fault == "saga_crash");
        return {};
      }
      if (fault == "http_loop") {
        server.abandon("fault switch: http_loop");
        return {};
      }
      if (fault == "io_throw") {
        server.post([] {
          throw std::runtime_error("fault switch: io_throw");
        });
        return {};
      }
      if (fault == "stuck_actor") {
        // An actor that never exits: the shutdown waits for it in vain and
        // the exit guard has to end the process.
        sys.spawn<caf::detached>([](caf::blocking_actor*) {
          for (;;)
            std::this_thread::sleep_for(std::chrono::seconds(1));
        });
        return {};
      }
      return "unknown fault (handler_throw, io_throw, http_loop, "
             "stuck_actor, saga_crash, saga_heal)";
    };
  }
  ws_authenticator ws_auth
    = [keys = config.http.api_keys, secret = config.ws.customer_token_secret](
        const api_request& req) -> std::optional<ws_principal> {
    auto token = presented_token(req);
    if (token.empty())
      return std::nullopt;
    if (api_key_matches(keys, token))
      return ws_principal{true, {}};
    if (auto customer
        = verify_customer_token(secret, token, std::time(nullptr)))
      return ws_principal{false, *customer};
    return std::nullopt;
  };
  ws_settings ws{static_cast<size_t>(config.ws.max_queue_frames),
                 static_cast<size_t>(config.ws.max_frame_bytes),
                 millis{config.ws.idle_timeout_ms},
                 static_cast<int>(config.ws.send_buffer_bytes),
                 static_cast<int>(config.ws.io_threads)};
  server.add_upgrade("/v1/ws", make_ws_endpoint(ws, make_hub_client(hub),
                                                ws_auth, log, metrics));
  api_pipeline pipeline{
    make_routes(routes), config.http.api_keys, fault_reporter{&log, &metrics},
    key_rate_limit{static_cast<double>(config.http.rate_limit_per_s),
                   static_cast<double>(config.http.rate_limit_burst)},
    database};
  if (config.http.api_keys.empty())
    log.warn("http", "no API keys configured: every /v1/ request gets 401");
  log.info("node", "listening",
           {{"node_id", node_id},
            {"url", "http://" + config.http.bind + ":"
                      + std::to_string(server.port())}});
  if (guard.signalled())
    server.stop(); // a signal during start-up
  auto drained = server.run(pipeline);
  if (!drained)
    log.error("node", "the HTTP loop is gone; stopping the node");
  int code = (!drained || escalated) ? 1 : 0;
  // Whatever is stuck below (an actor that does not exit, a provider
  // client's thread), the process ends within the exit timeout.
  guard.arm(millis{config.shutdown_exit_timeout_ms});
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  real_providers.clear(); // their I/O threads stop while the system exists
  log.info("node", "stopped", {{"exit_code", std::to_string(code)}});
  return code;
}

} // namespace kassa
