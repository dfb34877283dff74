#pragma once

// An order saga under test: its journal, scheduler and every provider are
// `fake_root`'s (what it was sent is in `world`), its store answers a fixed
// request, and time moves with `advance()`.

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/order_saga.hpp"
#include "fakes/fake_root.hpp"
#include "fakes/test_system.hpp"

namespace kassa::test {

struct saga_fixture : test_system {
  std::shared_ptr<fake_world> world = std::make_shared<fake_world>();
  std::shared_ptr<fake_saga_store> store = std::make_shared<fake_saga_store>();
  caf::actor root;
  caf::actor saga;
  order_saga_deps deps;

  explicit saga_fixture(std::string request_json) {
    using namespace std::chrono_literals;
    root = sys->spawn(fake_root, world);
    store->request_json = std::move(request_json);
    route_through(deps, root);
    deps.store = store;
    deps.policy = saga_retry_policy{5, 8, 50ms, 1000ms};
    deps.call_timeout = 5s;
  }

  ~saga_fixture() {
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    if (saga)
      caf::anon_send_exit(saga, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// Spawns the saga of `id` the way the supervisor does and runs it.
  void start_saga(const std::string& id) {
    sys->spawn(
      [this, id](caf::event_based_actor* self, int) {
        saga = spawn_order_saga(self, id, deps);
      },
      0);
    sched->run();
  }

  void reply(const provider_call& call, provider_outcome outcome,
             std::string ref = {}) {
    caf::anon_send(
      call.reply_to,
      provider_result{call.message_id, outcome, std::move(ref),
                      outcome == provider_outcome::ok ? "" : "err"});
    sched->run();
  }
};

} // namespace kassa::test
