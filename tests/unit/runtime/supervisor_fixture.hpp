#pragma once

// The supervisor tests' fixture: a deterministic CAF system, a logger and
// metrics, and children that crash, quit or count on command.

#include <atomic>
#include <memory>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "fakes/test_system.hpp"
#include "runtime/child_handle.hpp"
#include "runtime/errc.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/supervisor.hpp"
#include "runtime/type_ids.hpp"

namespace kassa::test_supervisor {

using namespace std::chrono_literals;

struct child_stats {
  int starts = 0;
  int records = 0;
};

/// A child that crashes on "crash" (an exception), exits normally on "quit"
/// and counts "record" messages.
inline caf::behavior crashing_child(caf::event_based_actor* self,
                                    std::shared_ptr<child_stats> stats) {
  ++stats->starts;
  return {
    [self, stats](const std::string& cmd) {
      if (cmd == "crash")
        throw std::runtime_error("deliberate crash");
      if (cmd == "quit")
        self->quit();
      if (cmd == "record")
        ++stats->records;
    },
  };
}

struct fixture : test::test_system {
  logger log{log_level::error, -1}; // fd -1: discard
  metrics_registry metrics;
  std::shared_ptr<child_stats> stats = std::make_shared<child_stats>();

  caf::actor spawn(uint32_t max_restarts) {
    supervisor_options opts{"test", max_restarts, 60s, 100ms, 1000ms};
    auto s = stats;
    std::vector<child_spec> children{{"worker", [s](caf::local_actor* parent) {
                                        return parent->spawn(crashing_child, s);
                                      }}};
    auto sup
      = spawn_supervisor(*sys, opts, std::move(children), &log, &metrics);
    sched->run();
    return sup;
  }

  void tell(const caf::actor& sup, const char* cmd) {
    caf::anon_send(sup, atom::tell::value, std::string{"worker"},
                   caf::make_message(std::string{cmd}));
    sched->run();
  }

  /// A crashing_child named `name` that counts into `st`.
  static child_spec counting_child(std::string name,
                                   std::shared_ptr<child_stats> st) {
    return child_spec{std::move(name), [st](caf::local_actor* parent) {
                        return parent->spawn(crashing_child, st);
                      }};
  }

  /// Spawns a one-off actor running `f`. (A function actor always gets one
  /// argument here: CAF 0.17.6 dereferences a null tuple for argument-less
  /// function actors, which UBSan reports.)
  template <class F>
  void spawn_probe(F f) {
    sys->spawn(
      [f](caf::event_based_actor* self, int) mutable {
        f(self);
      },
      0);
    sched->run();
  }

  /// What `(get, name)` answers when it finds no child (none: it found one).
  caf::error lookup_error(const caf::actor& sup, const std::string& name) {
    caf::error got;
    spawn_probe([&](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, atom::get::value, name)
        .then([](const caf::actor&) {},
              [&](caf::error& e) {
                got = e;
              });
    });
    sched->run();
    return got;
  }

  uint64_t restarts() {
    return metrics
      .get_counter("kassa_actor_restarts_total", "",
                   {{"supervisor", "test"}, {"child", "worker"}})
      .value();
  }
};

} // namespace kassa::test_supervisor
