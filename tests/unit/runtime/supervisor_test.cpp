#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "unit/runtime/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace kassa;
using namespace kassa::test_supervisor;

TEST_CASE_METHOD(fixture, "supervisor restarts a crashed child after backoff",
                 "[supervisor]") {
  auto sup = spawn(5);
  REQUIRE(stats->starts == 1);
  tell(sup, "crash");
  // Not yet: the first restart waits backoff_initial (100 ms).
  CHECK(stats->starts == 1);
  advance(99ms);
  CHECK(stats->starts == 1);
  // Messages for the restarting child are held, not lost.
  tell(sup, "record");
  CHECK(stats->records == 0);
  advance(1ms);
  CHECK(stats->starts == 2);
  CHECK(stats->records == 1);
  CHECK(restarts() == 1);
  // The second consecutive crash waits twice as long.
  tell(sup, "crash");
  advance(199ms);
  CHECK(stats->starts == 2);
  advance(1ms);
  CHECK(stats->starts == 3);
  // And the third four times as long.
  tell(sup, "crash");
  advance(399ms);
  CHECK(stats->starts == 3);
  advance(1ms);
  CHECK(stats->starts == 4);
  CHECK(restarts() == 3);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture, "supervisor caps the backoff at backoff_max",
                 "[supervisor]") {
  auto sup = spawn(100);
  for (int i = 0; i < 6; ++i) {
    tell(sup, "crash");
    advance(1000ms);
  }
  // 100, 200, 400, 800, 1000, 1000: each fits in the 1 s advanced.
  CHECK(stats->starts == 7);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture, "supervisor escalates past its restart budget",
                 "[supervisor]") {
  auto sup = spawn(2);
  auto reason = std::make_shared<caf::error>();
  auto exited = std::make_shared<bool>(false);
  sup->attach_functor([reason, exited](const caf::error& r) {
    *reason = r;
    *exited = true;
  });
  tell(sup, "crash");
  advance(100ms);
  tell(sup, "crash");
  advance(200ms);
  REQUIRE(stats->starts == 3);
  REQUIRE_FALSE(*exited);
  // The third crash within the window exceeds max_restarts = 2.
  tell(sup, "crash");
  sched->run();
  CHECK(*exited);
  CHECK(*reason == errc::restart_limit_exceeded);
  advance(10s);
  CHECK(stats->starts == 3); // No restart after giving up.
}

TEST_CASE_METHOD(fixture,
                 "a nested supervisor's escalation is a crash of its "
                 "parent's child",
                 "[supervisor]") {
  auto inner_starts = std::make_shared<int>(0);
  auto s = stats;
  auto log_ptr = &log;
  auto metrics_ptr = &metrics;
  std::vector<child_spec> children{
    {"inner", [=](caf::local_actor* parent) {
       ++*inner_starts;
       return spawn_supervisor(parent->system(),
                               supervisor_options{"inner", 0, 60s, 100ms, 1s},
                               {{"worker",
                                 [s](caf::local_actor* p) {
                                   return p->spawn(crashing_child, s);
                                 }}},
                               log_ptr, metrics_ptr);
     }}};
  auto outer
    = spawn_supervisor(*sys, supervisor_options{"outer", 5, 60s, 100ms, 1s},
                       std::move(children), &log, &metrics);
  sched->run();
  REQUIRE(*inner_starts == 1);
  REQUIRE(stats->starts == 1);
  // Ask the outer supervisor for the inner one, then crash its worker.
  caf::actor inner;
  spawn_probe([&](caf::event_based_actor* self) {
    self->request(outer, caf::infinite, atom::get::value, std::string{"inner"})
      .then([&](const caf::actor& h) {
        inner = h;
      });
  });
  sched->run();
  REQUIRE(inner);
  caf::anon_send(inner, atom::tell::value, std::string{"worker"},
                 caf::make_message(std::string{"crash"}));
  sched->run();
  // inner allows 0 restarts: it gives up; outer restarts inner (and with it
  // a fresh worker).
  advance(100ms);
  CHECK(*inner_starts == 2);
  CHECK(stats->starts == 2);
  caf::anon_send_exit(outer, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture, "a child that exits normally is not restarted",
                 "[supervisor]") {
  auto sup = spawn(5);
  tell(sup, "quit");
  advance(10s);
  CHECK(stats->starts == 1);
  CHECK(restarts() == 0);
  CHECK(lookup_error(sup, "worker") == errc::unknown_child);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture, "ask reaches the child across a restart",
                 "[supervisor]") {
  supervisor_options opts{"test", 5, 60s, 100ms, 1s};
  std::vector<child_spec> children{
    {"echo", [](caf::local_actor* parent) {
       return parent->spawn(
         [](caf::event_based_actor*, int) -> caf::behavior {
           return {
             [](int x) -> int {
               if (x < 0)
                 throw std::runtime_error("negative");
               return x * 2;
             },
           };
         },
         0);
     }}};
  auto sup = spawn_supervisor(*sys, opts, std::move(children), &log, &metrics);
  sched->run();
  std::vector<int> answers;
  caf::error failure;
  auto ask = [&](int x) {
    spawn_probe([&, x](caf::event_based_actor* self) {
      self
        ->request(sup, caf::infinite, atom::ask::value, std::string{"echo"},
                  caf::make_message(x))
        .then(
          [&](int y) {
            answers.push_back(y);
          },
          [&](caf::error& e) {
            failure = e;
          });
    });
    sched->run();
  };
  ask(21);
  REQUIRE(answers == std::vector<int>{42});
  caf::anon_send(sup, atom::tell::value, std::string{"echo"},
                 caf::make_message(-1));
  sched->run();
  ask(5); // held while the child restarts
  CHECK(answers.size() == 1);
  advance(100ms);
  CHECK(answers == std::vector<int>{42, 10});
  ask(1);
  CHECK(answers.back() == 2);
  caf::error unknown;
  spawn_probe([&](caf::event_based_actor* self) {
    self
      ->request(sup, caf::infinite, atom::ask::value, std::string{"nobody"},
                caf::make_message(1))
      .then([](int) {},
            [&](caf::error& e) {
              unknown = e;
            });
  });
  sched->run();
  CHECK(unknown == errc::unknown_child);
  CHECK_FALSE(failure);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "past max_running, added children wait with their messages "
                 "held until a slot frees",
                 "[supervisor]") {
  supervisor_options opts{"limited", 5, 60s, 100ms, 1000ms, false, 1};
  auto sup = spawn_supervisor(*sys, opts, {}, &log, &metrics);
  auto a = std::make_shared<child_stats>();
  auto b = std::make_shared<child_stats>();
  auto c = std::make_shared<child_stats>();
  auto say = [&](const char* child, const char* cmd) {
    caf::anon_send(sup, atom::tell::value, std::string{child},
                   caf::make_message(std::string{cmd}));
    sched->run();
  };
  caf::anon_send(sup, atom::add::value, counting_child("a", a));
  caf::anon_send(sup, atom::add::value, counting_child("b", b));
  caf::anon_send(sup, atom::add::value, counting_child("c", c));
  sched->run();
  CHECK(a->starts == 1);
  CHECK(b->starts == 0); // waits for a slot
  say("b", "record");    // held, not lost
  CHECK(b->records == 0);
  say("a", "quit"); // a finishes: b gets the slot and its message
  CHECK(b->starts == 1);
  CHECK(b->records == 1);
  CHECK(c->starts == 0);
  // b waits for the outside world: its slot goes to c.
  caf::anon_send(sup, atom::idle::value, std::string{"b"}, true);
  sched->run();
  CHECK(c->starts == 1);
  say("b", "record"); // an idle child still gets its messages
  CHECK(b->records == 2);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "children added in one message start in order, the ones "
                 "past max_running wait like any other",
                 "[supervisor]") {
  supervisor_options opts{"limited", 5, 60s, 100ms, 1000ms, false, 2};
  auto sup = spawn_supervisor(*sys, opts, {}, &log, &metrics);
  std::vector<std::shared_ptr<child_stats>> stats;
  std::vector<child_spec> specs;
  for (auto name : {"a", "b", "c"}) {
    stats.push_back(std::make_shared<child_stats>());
    specs.push_back(counting_child(name, stats.back()));
  }
  caf::anon_send(sup, atom::add::value, std::move(specs));
  sched->run();
  CHECK(stats[0]->starts == 1);
  CHECK(stats[1]->starts == 1);
  CHECK(stats[2]->starts == 0); // waits for a slot
  caf::anon_send(sup, atom::tell::value, std::string{"c"},
                 caf::make_message(std::string{"record"}));
  caf::anon_send(sup, atom::tell::value, std::string{"a"},
                 caf::make_message(std::string{"quit"}));
  sched->run();
  CHECK(stats[2]->starts == 1);
  CHECK(stats[2]->records == 1); // held, then delivered
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "children that stop while what they need is away pause: no "
                 "restart, no budget used, resumed a batch per tick once back",
                 "[supervisor][pause]") {
  auto up = std::make_shared<bool>(true);
  supervisor_options opts{"test", 2, 60s, 100ms, 1000ms};
  opts.pause_on = [up](const caf::error&) {
    return !*up;
  };
  opts.resumable = [up] {
    return *up;
  };
  opts.resume_batch = 1;
  opts.resume_tick = 50ms;
  auto other = std::make_shared<child_stats>();
  std::vector<child_spec> children{counting_child("worker", stats),
                                   counting_child("other", other)};
  auto sup = spawn_supervisor(*sys, opts, std::move(children), &log, &metrics);
  sched->run();
  auto tell_to = [&](const char* child, const char* cmd) {
    caf::anon_send(sup, atom::tell::value, std::string{child},
                   caf::make_message(std::string{cmd}));
    sched->run();
  };
  *up = false;
  tell_to("worker", "crash");
  tell_to("other", "crash");
  auto paused = [&] {
    return metrics
      .get_gauge("kassa_supervisor_paused", "", {{"supervisor", "test"}})
      .value();
  };
  CHECK(paused() == 2);
  // Held while paused, however long: no restart, no escalation.
  tell_to("worker", "record");
  advance(10s);
  CHECK(stats->starts == 1);
  CHECK(other->starts == 1);
  CHECK(stats->records == 0);
  // Back: one child per tick (resume_batch), its held message delivered.
  *up = true;
  advance(50ms);
  CHECK(stats->starts + other->starts == 3);
  CHECK(paused() == 1);
  advance(50ms);
  CHECK(stats->starts == 2);
  CHECK(other->starts == 2);
  CHECK(stats->records == 1);
  CHECK(paused() == 0);
  CHECK(restarts() == 0);
  // Pausing used none of the budget (2): two crashes now restart as usual.
  tell_to("worker", "crash");
  advance(100ms);
  tell_to("worker", "crash");
  advance(200ms);
  CHECK(stats->starts == 4);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "a child_handle reaches the current incarnation directly "
                 "and goes through the supervisor only while it restarts",
                 "[supervisor][child_handle]") {
  supervisor_options opts{"test", 5, 60s, 100ms, 1000ms};
  auto slot = std::make_shared<child_slot>("worker");
  auto spec = counting_child("worker", stats);
  spec.slot = slot;
  std::vector<child_spec> children{spec};
  auto sup = spawn_supervisor(*sys, opts, std::move(children), &log, &metrics);
  sched->run();
  child_handle<caf::actor> handle{slot};
  // Published at start: the same actor the supervisor supervises.
  caf::actor supervised;
  spawn_probe([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, atom::get::value, std::string{"worker"})
      .then([&](const caf::actor& a) {
        supervised = a;
      });
  });
  REQUIRE(supervised);
  CHECK(slot->current() == supervised);
  CHECK(slot->supervisor() == sup);
  handle.anon_send(std::string{"record"});
  sched->run();
  CHECK(stats->records == 1);
  // Down: the slot is empty and a message waits at the supervisor for the
  // next incarnation instead of going to the dead one.
  handle.anon_send(std::string{"crash"});
  sched->run();
  CHECK_FALSE(slot->current());
  handle.anon_send(std::string{"record"});
  sched->run();
  CHECK(stats->records == 1);
  advance(100ms);
  CHECK(stats->starts == 2);
  CHECK(stats->records == 2);
  REQUIRE(slot->current());
  CHECK(slot->current() != supervised);
  // A child that finishes is gone from its slot.
  handle.anon_send(std::string{"quit"});
  sched->run();
  CHECK_FALSE(slot->current());
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}

TEST_CASE_METHOD(fixture,
                 "supervisor names its children and stops some for good",
                 "[supervisor]") {
  supervisor_options opts{"test", 5, 60s, 100ms, 1000ms};
  opts.escalate = false;
  auto a = std::make_shared<child_stats>();
  auto b = std::make_shared<child_stats>();
  auto sup = spawn_supervisor(*sys, opts,
                              {counting_child("a", a), counting_child("b", b)},
                              &log, &metrics);
  sched->run();
  std::vector<std::string> names;
  spawn_probe([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, atom::names::value)
      .then([&](const std::vector<std::string>& xs) {
        names = xs;
      });
  });
  CHECK(names == std::vector<std::string>{"a", "b"});
  caf::anon_send(sup, atom::stop::value, std::vector<std::string>{"a", "x"});
  sched->run();
  advance(2000ms);
  // Stopped, not restarted; a message for it is not delivered.
  CHECK(a->starts == 1);
  caf::anon_send(sup, atom::tell::value, std::string{"a"},
                 caf::make_message(std::string{"record"}));
  caf::anon_send(sup, atom::tell::value, std::string{"b"},
                 caf::make_message(std::string{"record"}));
  sched->run();
  CHECK(a->records == 0);
  CHECK(b->records == 1);
  spawn_probe([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, atom::names::value)
      .then([&](const std::vector<std::string>& xs) {
        names = xs;
      });
  });
  CHECK(names == std::vector<std::string>{"b"});
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
}
