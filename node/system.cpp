#include "node/system.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "adapters/type_ids.hpp"
#include "node/config.hpp"
#include "runtime/errc.hpp"
#include "runtime/lazy_clock.hpp"
#include "runtime/type_ids.hpp"

namespace kassa {

void register_kassa_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::kassa_runtime>();
  cfg.add_message_types<caf::id_block::kassa_actors>();
  cfg.add_message_types<caf::id_block::kassa_adapters>();
  cfg.add_error_category(caf::atom("kassa"), render_errc);
}

void configure_actor_system(caf::actor_system_config& cfg,
                            const node_config& config) {
  register_kassa_types(cfg);
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(config.scheduler.threads));
  if (config.scheduler.policy == "sharing")
    cfg.set("scheduler.policy", caf::atom("sharing"));
  else
    cfg.set("scheduler.policy", caf::atom("stealing"));
  // CAF's scheduler with a clock that wakes its thread only when it must
  // (runtime/lazy_clock.hpp).
  use_lazy_clock(cfg, config.scheduler.policy);
  // An idle worker otherwise sleeps in 50 µs steps that a message from an
  // Asio thread cannot cut short (STYLE.md §15): ~100 µs per hop.
  cfg.set("work-stealing.moderate-poll-attempts", static_cast<size_t>(0));
  if (config.cluster.port != 0) {
    // The cluster link (docs/cluster.md). Without heartbeats and a timeout
    // a frozen peer is never noticed; both must be alike on every node.
    cfg.load<caf::io::middleman>();
    if (config.cluster.tls()) {
      // Mutual TLS: each side presents its certificate and requires the
      // peer's, signed by the cluster's CA (CAF's openssl module).
      cfg.load<caf::openssl::manager>();
      cfg.openssl_certificate = config.cluster.tls_certificate;
      cfg.openssl_key = config.cluster.tls_key;
      cfg.openssl_cafile = config.cluster.tls_ca;
    }
    cfg.set(
      "middleman.heartbeat-interval",
      caf::timespan{std::chrono::milliseconds{config.cluster.heartbeat_ms}});
    cfg.set(
      "middleman.connection-timeout",
      caf::timespan{std::chrono::milliseconds{config.cluster.link_timeout_ms}});
  }
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
}

} // namespace kassa
