// The lazy clock (runtime/lazy_clock.hpp) on a real actor system: timers
// fire, in due order, an earlier one is never held back by a later one that
// the clock's thread is already sleeping towards, and an actor's timers
// leave the clock when the actor does.

#include <chrono>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include "node/system.hpp"
#include "runtime/lazy_clock.hpp"

using namespace std::chrono_literals;
using namespace kassa;

namespace {

struct real_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  explicit real_system(std::string_view policy = "stealing") {
    register_kassa_types(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    cfg.set("logger.verbosity", caf::atom("quiet"));
    use_lazy_clock(cfg, policy);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// Waits (up to 10 s) until `sys`'s clock holds `n` entries.
bool pending_becomes(caf::actor_system& sys, long n) {
  for (int i = 0; i < 1000; ++i) {
    if (lazy_clock_pending(sys) == n)
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

} // namespace

TEST_CASE("the lazy clock ships delayed messages in due order",
          "[lazy_clock]") {
  for (auto policy : {"stealing", "sharing"}) {
    INFO(policy);
    real_system rs{policy};
    auto& sys = *rs.sys;
    REQUIRE(lazy_clock_pending(sys) == 0); // it is the system's clock
    caf::scoped_actor self{sys};
    // The clock's thread goes to sleep towards the first, far timer; the
    // later-set earlier ones must wake it (else they would wait 60 s).
    self->delayed_send(self, 60s, std::string{"far"});
    REQUIRE(pending_becomes(sys, 1));
    self->delayed_send(self, 300ms, std::string{"second"});
    self->delayed_send(self, 30ms, std::string{"first"});
    std::vector<std::string> got;
    for (int i = 0; i < 2; ++i)
      self->receive(
        [&](const std::string& s) {
          got.push_back(s);
        },
        caf::after(std::chrono::seconds(20)) >>
          [&] {
            got.push_back("nothing within 20 s");
          });
    CHECK(got == std::vector<std::string>{"first", "second"});
    CHECK(lazy_clock_pending(sys) == 1); // "far" is still waiting
  }
}

TEST_CASE("the lazy clock times out requests and receives", "[lazy_clock]") {
  real_system rs;
  auto& sys = *rs.sys;
  caf::scoped_actor self{sys};
  // (Each spawned function takes an argument: CAF 0.17 binds a null
  // reference for an empty argument tuple, which UBSan reports.)
  auto silent = sys.spawn(
    [](int) -> caf::behavior {
      return {[](const std::string&) -> caf::result<std::string> {
        return caf::delegated<std::string>{}; // never answers
      }};
    },
    0);
  bool timed_out = false;
  self->request(silent, 50ms, std::string{"hello?"})
    .receive([](const std::string&) {},
             [&](caf::error& err) {
               timed_out = err == caf::sec::request_timeout;
             });
  CHECK(timed_out);
  // An actor's receive timeout.
  auto waiter = sys.spawn(
    [](caf::event_based_actor* me, caf::actor probe) -> caf::behavior {
      return {caf::after(std::chrono::milliseconds(40)) >> [me, probe] {
        me->send(probe, std::string{"idle"});
        me->quit();
      }};
    },
    caf::actor{self});
  std::string got;
  self->receive(
    [&](const std::string& s) {
      got = s;
    },
    caf::after(std::chrono::seconds(20)) >>
      [&] {
        got = "nothing within 20 s";
      });
  CHECK(got == "idle");
  self->send_exit(silent, caf::exit_reason::user_shutdown);
}

TEST_CASE("an actor's timers leave the lazy clock with it", "[lazy_clock]") {
  real_system rs;
  auto& sys = *rs.sys;
  REQUIRE(pending_becomes(sys, 0));
  // A receive timeout of an hour: its entry stays until the actor exits.
  auto sleeper = sys.spawn(
    [](int) -> caf::behavior {
      return {[](int) {}, caf::after(std::chrono::seconds(3600)) >> [] {}};
    },
    0);
  caf::anon_send(sleeper, 1); // (re)arms the receive timeout
  REQUIRE(pending_becomes(sys, 1));
  caf::anon_send_exit(sleeper, caf::exit_reason::user_shutdown);
  CHECK(pending_becomes(sys, 0));
}
