// The sagas' way out through their supervisor: the passivation handshake
// (a child that asks to leave sees what was delivered before; what comes
// after starts it again) and a tell that adds its child in the same step.

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "unit/runtime/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace kassa;
using namespace kassa::test_supervisor;

namespace {

/// A child that asks to leave on "leave" (the passivation handshake), counts
/// "record" messages, and stays when one arrived since it asked (or since
/// "idle").
caf::behavior leaving_child(caf::event_based_actor* self,
                            std::shared_ptr<child_stats> stats,
                            std::shared_ptr<caf::actor> sup) {
  ++stats->starts;
  auto work_since_asking = std::make_shared<bool>(false);
  return {
    [=](const std::string& cmd) {
      if (cmd == "leave" || cmd == "idle")
        *work_since_asking = false;
      if (cmd == "leave")
        self->send(*sup, atom::passivate::value, std::string{"worker"}, true);
      if (cmd == "record") {
        ++stats->records;
        *work_since_asking = true;
      }
    },
    [=](atom::passivate) {
      if (!*work_since_asking) {
        self->quit();
        return;
      }
      self->send(*sup, atom::passivate::value, std::string{"worker"}, false);
    },
  };
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "a child that asks to leave sees what was delivered before "
                 "and what comes after starts it again",
                 "[supervisor]") {
  supervisor_options opts{"test", 5, 60s, 100ms, 1s};
  auto sup_handle = std::make_shared<caf::actor>();
  auto s = stats;
  std::vector<child_spec> children{
    {"worker", [s, sup_handle](caf::local_actor* parent) {
       return parent->spawn(leaving_child, s, sup_handle);
     }}};
  auto sup = spawn_supervisor(*sys, opts, std::move(children), &log, &metrics);
  *sup_handle = sup;
  sched->run();
  REQUIRE(stats->starts == 1);

  // Work delivered before the supervisor's answer keeps the child.
  caf::anon_send(sup, atom::tell::value, std::string{"worker"},
                 caf::make_message(std::string{"leave"}));
  caf::anon_send(sup, atom::tell::value, std::string{"worker"},
                 caf::make_message(std::string{"record"}));
  sched->run();
  CHECK(stats->records == 1);
  CHECK(stats->starts == 1);
  tell(sup, "record"); // delivered at once: it stayed
  CHECK(stats->records == 2);

  // A message sent while it is on its way out (after its request reached
  // the supervisor) is held and starts a new incarnation instead of being
  // lost with the old one.
  tell(sup, "idle");
  caf::anon_send(sup, atom::passivate::value, std::string{"worker"}, true);
  caf::anon_send(sup, atom::tell::value, std::string{"worker"},
                 caf::make_message(std::string{"record"}));
  sched->run();
  CHECK(stats->starts == 2);
  CHECK(stats->records == 3);
  CHECK(restarts() == 0); // not a crash
  // Asked to leave with nothing coming: it is gone for good.
  tell(sup, "leave");
  CHECK(lookup_error(sup, "worker") == errc::unknown_child);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "a tell with the child's spec starts it when absent and "
                 "delivers in the same step",
                 "[supervisor]") {
  auto sup = spawn(5);
  auto other = std::make_shared<child_stats>();
  auto told = [&](const char* cmd) {
    caf::anon_send(sup, atom::tell::value, counting_child("w2", other),
                   caf::make_message(std::string{cmd}));
    sched->run();
  };
  told("record");
  CHECK(other->starts == 1);
  CHECK(other->records == 1);
  told("record"); // running: delivered, not started again
  CHECK(other->starts == 1);
  CHECK(other->records == 2);
  told("quit");
  told("record"); // gone: started again for it
  CHECK(other->starts == 2);
  CHECK(other->records == 3);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}
