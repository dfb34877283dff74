#pragma once

// An actor system on CAF's deterministic test scheduler, with every kassa
// message type registered: actor tests run with `sched->run()` and move time
// with `advance()` instead of sleeping (STYLE.md §11).

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "node/system.hpp"

namespace kassa::test {

struct test_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  test_system() {
    register_kassa_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  /// Advances the test clock and runs whatever became due.
  void advance(caf::timespan t) {
    sched->advance_time(t);
    sched->run();
  }
};

} // namespace kassa::test
