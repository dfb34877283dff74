#include "node/serve.hpp"

#include <atomic>
#include <ctime>
#include <fstream>
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

#include "adapters/http/api_pipeline.hpp"
#include "adapters/http/customer_token.hpp"
#include "adapters/http/server.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/migrations.hpp"
#include "adapters/type_ids.hpp"
#include "adapters/ws/ws_endpoint.hpp"
#include "node/actor_tree.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"
#include "node/exit_guard.hpp"
#include "node/hub_client.hpp"
#include "node/key_wiring.hpp"
#include "node/provider_wiring.hpp"
#include "node/routes/routes.hpp"
#include "node/system.hpp"
#include "runtime/clock.hpp"
#include "runtime/database_health.hpp"
#include "runtime/hmac.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

/// The host name: stable across restarts, so a restarted node takes its
/// previous process's shards back at once (node/cluster.hpp).
std::string default_node_id() {
  char host[256] = "node";
  gethostname(host, sizeof(host) - 1);
  return std::string{host};
}

/// Connects and migrates; returns an empty string or the one-line reason.
/// With clock.test_mode, `clock_offset_ms` gets how far tests have moved
/// the clock so far (it outlives a restart, as the jobs due by it do).
std::string prepare_database(const node_config& config, const logger& log,
                             int64_t* clock_offset_ms = nullptr,
                             key_registry* keys = nullptr) {
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
  if (keys)
    if (auto failure = load_stored_keys(conn, *keys); !failure.empty())
      return "cannot read the API keys: " + failure;
  if (clock_offset_ms) {
    pg::result res;
    if (auto err = conn.exec("SELECT offset_ms FROM test_clock", {}, res))
      return "cannot read the test clock: " + err->message;
    *clock_offset_ms
      = res.rows() == 1 ? std::stoll(std::string{res.value(0, 0)}) : 0;
  }
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
  int64_t clock_offset_ms = 0;
  auto keys = std::make_shared<key_registry>(config.http.api_keys);
  if (auto failure = prepare_database(
        config, log, config.clock.test_mode ? &clock_offset_ms : nullptr,
        keys.get());
      !failure.empty()) {
    std::cerr << "kassa serve: " << failure << '\n';
    log.error("node", failure);
    return 1;
  }
  if (config.cluster.port == 0 && !config.cluster.seeds.empty())
    log.warn("node", "cluster.seeds are ignored without cluster.port");
  if (config.cluster.port != 0 && config.cluster.tls()) {
    // CAF's openssl module would only throw from inside the actor system.
    for (auto& [key, path] :
         {std::pair{"cluster.tls_certificate", config.cluster.tls_certificate},
          std::pair{"cluster.tls_key", config.cluster.tls_key},
          std::pair{"cluster.tls_ca", config.cluster.tls_ca}})
      if (!std::ifstream{path}) {
        auto failure = std::string{key} + ": cannot read " + path;
        std::cerr << "kassa serve: " << failure << '\n';
        log.error("node", failure);
        return 2;
      }
  }
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
  bool billingo_enabled = false;
  std::vector<std::string> payment_processors{"sandbox"};
  for (auto& p : real_providers) {
    billingo_enabled |= p.options.name == "billingo";
    if (p.options.kind == "payment")
      payment_processors.push_back(p.options.name);
  }
  if (auto why = check_payment_processors(config, payment_processors);
      !why.empty()) {
    std::cerr << "kassa serve: " << why << '\n';
    return 2;
  }
  if (auto why = check_contact_channels(config, real_providers); !why.empty()) {
    std::cerr << "kassa serve: " << why << '\n';
    return 2;
  }
  if (!config.orders.payment_routes.empty())
    payment_processors.emplace_back("auto");
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
  std::shared_ptr<shard_ownership> ownership;
  if (auto failure = join_cluster(
        config, node_id, config.http.bind + ":" + std::to_string(server.port()),
        log, ownership);
      !failure.empty()) {
    std::cerr << "kassa serve: " << failure << '\n';
    log.error("node", failure);
    return 1;
  }
  std::atomic<bool> superseded{false};
  caf::actor_system_config cfg;
  configure_actor_system(cfg, config);
  caf::actor_system sys{cfg};
  auto tree = start_actor_tree(
    sys, config, node_id, ownership,
    [&superseded, &server] {
      superseded = true;
      server.stop();
    },
    real_providers,
    config.clock.test_mode ? make_test_clock(clock_offset_ms)
                           : make_system_clock(),
    log, metrics);
  auto& root = tree.root;
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
  route_context routes{tree.node,
                       tree.order_intake,
                       tree.db,
                       tree.sagas,
                       tree.inventory,
                       &metrics,
                       &sys,
                       config.ws.customer_token_secret,
                       tree.providers,
                       config.orders.payment_provider,
                       payment_processors,
                       config.orders.invoicing_provider,
                       config.stripe.webhook_secret,
                       tree.saga_policy,
                       {},
                       tree.database,
                       ownership,
                       millis{config.cluster.lease_ms},
                       tree.mesh,
                       tree.links,
                       bytes_from_hex(config.adyen.hmac_key).value_or(""),
                       tree.clock,
                       tree.subscriptions,
                       keys,
                       tree.stats,
                       tree.contact,
                       {},
                       {},
                       {},
                       {}};
  for (auto& p : real_providers)
    if (p.options.adapter == "twilio")
      routes.twilio_accounts.push_back(
        {p.options.name, p.account, p.webhook_secret});
  routes.twilio_status_callback = config.twilio_status_callback;
  routes.hub = tree.hub;
  routes.inbound_email_secret = config.contact.inbound_secret;
  start_key_refresher(sys, root, key_reloader(tree.db, keys),
                      millis{config.http.key_refresh_ms});
  // The cluster link: the one actor a peer can reach, on cluster.port.
  auto cluster_node = tree.cluster_node;
  bool failed_start = false;
  if (cluster_node) {
    if (auto failure
        = publish_cluster_node(sys, cluster_node, config.cluster.bind,
                               config.cluster.port, config.cluster.tls());
        !failure.empty()) {
      std::cerr << "kassa serve: " << failure << '\n';
      log.error("node", failure);
      failed_start = true;
      server.stop();
    } else {
      log.info("cluster", "cluster link listening",
               {{"bind", config.cluster.bind},
                {"port", std::to_string(config.cluster.port)},
                {"advertised", cluster_address(config)},
                {"tls", config.cluster.tls() ? "on" : "off"}});
    }
  }
  if (config.clock.test_mode)
    log.warn("node", "clock.test_mode is on: POST /v1/test_clock/advance "
                     "moves this node's clock (tests only)");
  if (config.debug_fault_switches) {
    log.warn("node", "debug.fault_switches is on: POST /v1/debug/faults "
                     "breaks this node on request (tests only)");
    routes.inject_fault = [&server, &sys, crash = tree.crash_switch](
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
    = [keys, secret = config.ws.customer_token_secret](
        const api_request& req) -> std::optional<ws_principal> {
    auto token = presented_token(req);
    if (token.empty())
      return std::nullopt;
    if (keys->authenticate(token))
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
  server.add_upgrade("/v1/ws", make_ws_endpoint(ws, make_hub_client(tree.hub),
                                                ws_auth, log, metrics));
  api_pipeline pipeline{
    make_routes(routes),
    keys,
    fault_reporter{&log, &metrics},
    key_rate_limit{static_cast<double>(config.http.rate_limit_per_s),
                   static_cast<double>(config.http.rate_limit_burst)},
    tree.database,
    make_audit_sink(tree.db, log)};
  // The member area: customer tokens on the routes marked for them.
  pipeline.accept_customer_tokens(config.ws.customer_token_secret);
  if (keys->empty())
    log.warn("http", "no API keys configured or stored: every /v1/ request "
                     "gets 401 (create one with `kassa keys create`)");
  log.info("node", "listening",
           {{"node_id", node_id},
            {"url", "http://" + config.http.bind + ":"
                      + std::to_string(server.port())}});
  if (guard.signalled())
    server.stop(); // a signal during start-up
  auto drained = server.run(pipeline);
  if (!drained)
    log.error("node", "the HTTP loop is gone; stopping the node");
  int code = (!drained || escalated || superseded || failed_start) ? 1 : 0;
  // Whatever is stuck below (an actor that does not exit, a provider
  // client's thread), the process ends within the exit timeout.
  guard.arm(millis{config.shutdown_exit_timeout_ms});
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  if (cluster_node)
    caf::anon_send_exit(cluster_node, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  real_providers.clear(); // their I/O threads stop while the system exists
  // Every saga stopped and the journal is idle: the shards go back now, so
  // the others take them without waiting for the leases to expire.
  if (!superseded)
    leave_cluster(config, *ownership, log);
  log.info("node", "stopped", {{"exit_code", std::to_string(code)}});
  return code;
}

} // namespace kassa
