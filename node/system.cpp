#include "node/system.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

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
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
}

} // namespace kassa
