#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/provider_connection.hpp"
#include "actors/type_ids.hpp"
#include "fakes/test_system.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

struct seen {
  std::vector<provider_call> adapter_calls; ///< what reached the adapter
  std::vector<provider_result> answers;     ///< what the caller got
  std::vector<caf::message> published;      ///< what went to the journal
};

struct fixture : test_system {
  std::shared_ptr<seen> s = std::make_shared<seen>();
  caf::actor root;
  caf::actor caller;
  caf::actor conn;
  provider_connection_options options;

  fixture() {
    options.name = "fake-payment";
    options.kind = "payment";
    options.adapter = "fake";
    options.call_timeout = 1s;
    options.retry = retry_policy{3, 100ms, 100ms, 10s};
    options.breaker.min_calls = 4;
    options.breaker.failure_ratio = 0.5;
    options.breaker.open_for = 5s;
    options.breaker.probes = 1;
    auto rec = s;
    root = sys->spawn(
      [rec](caf::event_based_actor*, int) -> caf::behavior {
        return {[rec](atom::tell, const std::string&, caf::message& msg) {
          rec->published.push_back(msg);
        }};
      },
      0); // CAF 0.17.6: function actors need an argument (UBSan)
    caller = sys->spawn(
      [rec](caf::event_based_actor*, int) -> caf::behavior {
        return {[rec](const provider_result& r) {
          rec->answers.push_back(r);
        }};
      },
      0);
  }

  ~fixture() {
    for (auto& a : {root, caller, conn})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void start() {
    auto rec = s;
    auto opts = options;
    // The journal "restarting": circuit events reach `root` by name.
    auto slot = std::make_shared<child_slot>("journal");
    slot->set(nullptr, root.address());
    child_handle<journal_actor> r{slot};
    sys->spawn(
      [this, rec, opts, r](caf::event_based_actor* self, int) {
        conn = spawn_provider_connection(
          self, opts,
          [rec](caf::local_actor* parent) {
            return parent->spawn(
              [rec](caf::event_based_actor*, int) -> caf::behavior {
                return {
                  [rec](atom::call, const provider_call& c) {
                    rec->adapter_calls.push_back(c);
                  },
                  [](atom::info) {
                    return std::string{R"({"extra":1})"};
                  },
                };
              },
              0);
          },
          r, nullptr, nullptr);
      },
      0);
    sched->run();
  }

  void call(const std::string& id, std::string op = "charge",
            std::string key = "k") {
    provider_call c;
    c.message_id = id;
    c.idempotency_key = std::move(key);
    c.op = std::move(op);
    c.reply_to = caf::actor_cast<provider_result_sink>(caller);
    caf::anon_send(conn, atom::call::value, c);
    sched->run();
  }

  /// The adapter answers its n-th call.
  void answer(size_t n, provider_outcome outcome, std::string ref = {}) {
    auto& c = s->adapter_calls.at(n);
    caf::anon_send(c.reply_to, provider_result{c.message_id, outcome,
                                               std::move(ref), "boom", 0});
    sched->run();
  }

  nlohmann::json info() {
    nlohmann::json out;
    caf::scoped_actor self{*sys};
    auto h = sys->spawn(
      [this, &out](caf::event_based_actor* self, int) {
        self->request(conn, 1s, atom::info::value)
          .then([&out](const std::string& j) {
            out = nlohmann::json::parse(j);
          });
      },
      0);
    sched->run();
    return out;
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "a transient failure is retried after a backoff and the "
                 "caller gets one answer with its own message id",
                 "[provider_connection]") {
  start();
  call("saga:1");
  REQUIRE(s->adapter_calls.size() == 1);
  CHECK(s->adapter_calls[0].message_id != "saga:1"); // the connection's own
  answer(0, provider_outcome::transient);
  CHECK(s->answers.empty());
  CHECK(s->adapter_calls.size() == 1); // waits for the backoff
  advance(100ms);
  REQUIRE(s->adapter_calls.size() == 2);
  CHECK(s->adapter_calls[1].idempotency_key == "k");
  answer(1, provider_outcome::ok, "pi_1");
  REQUIRE(s->answers.size() == 1);
  CHECK(s->answers[0].message_id == "saga:1");
  CHECK(s->answers[0].outcome == provider_outcome::ok);
  CHECK(s->answers[0].ref == "pi_1");
  auto i = info();
  CHECK(i["calls"] == 2);
  CHECK(i["errors"] == 1);
  CHECK(i["retries"] == 1);
  CHECK(i["state"] == "closed");
  CHECK(i["extra"] == 1); // the adapter's part
}

TEST_CASE_METHOD(fixture,
                 "permanent answers are passed on at once, attempts run out "
                 "into a transient answer",
                 "[provider_connection]") {
  options.breaker.min_calls = 100;
  start();
  call("a");
  answer(0, provider_outcome::permanent);
  REQUIRE(s->answers.size() == 1);
  CHECK(s->answers[0].outcome == provider_outcome::permanent);
  call("b");
  for (size_t n = 1; n <= 3; ++n) {
    REQUIRE(s->adapter_calls.size() == n + 1);
    answer(n, provider_outcome::transient);
    advance(100ms);
  }
  REQUIRE(s->answers.size() == 2);
  CHECK(s->answers[1].message_id == "b");
  CHECK(s->answers[1].outcome == provider_outcome::transient);
  CHECK_FALSE(s->answers[1].maybe_sent); // no attempt may have been taken
  CHECK(s->adapter_calls.size() == 4);   // 1 + max_attempts (3)
}

TEST_CASE_METHOD(fixture,
                 "a timeout is an unknown outcome, retried only when the "
                 "call is idempotent, a late answer is dropped",
                 "[provider_connection]") {
  options.breaker.min_calls = 100;
  options.unsafe_ops = {"invoice"};
  start();
  call("inv", "invoice");
  advance(1s);
  REQUIRE(s->answers.size() == 1);
  CHECK(s->answers[0].outcome == provider_outcome::unknown);
  CHECK(s->adapter_calls.size() == 1); // not repeated: no idempotency
  answer(0, provider_outcome::ok, "late");
  CHECK(s->answers.size() == 1);
  call("pay", "charge");
  advance(1s);    // times out
  advance(100ms); // the retry
  REQUIRE(s->adapter_calls.size() == 3);
  answer(2, provider_outcome::ok, "pi");
  REQUIRE(s->answers.size() == 2);
  CHECK(s->answers[1].message_id == "pay");
  CHECK(s->answers[1].ref == "pi");
}

TEST_CASE_METHOD(fixture,
                 "each call times out at its own deadline, answered calls "
                 "never do",
                 "[provider_connection]") {
  options.breaker.min_calls = 100;
  options.unsafe_ops = {"invoice"}; // no retries: one answer per call
  start();
  call("a", "invoice");
  advance(300ms);
  call("b", "invoice");
  call("c", "invoice");
  answer(1, provider_outcome::ok, "rb"); // b answered in time
  advance(700ms);                        // a's deadline
  REQUIRE(s->answers.size() == 2);
  CHECK(s->answers[0].message_id == "b");
  CHECK(s->answers[1].message_id == "a");
  CHECK(s->answers[1].outcome == provider_outcome::unknown);
  advance(200ms); // c still has 100 ms
  CHECK(s->answers.size() == 2);
  advance(100ms);
  REQUIRE(s->answers.size() == 3);
  CHECK(s->answers[2].message_id == "c");
  CHECK(s->answers[2].outcome == provider_outcome::unknown);
  CHECK(info()["in_flight"] == 0);
}

TEST_CASE_METHOD(fixture,
                 "an open circuit refuses calls as unavailable, lets a probe "
                 "through after open_for, and closes on its success",
                 "[provider_connection]") {
  options.retry = retry_policy{1, 100ms, 100ms, 10s}; // no retries
  start();
  for (int i = 0; i < 4; ++i) {
    call("f" + std::to_string(i));
    answer(static_cast<size_t>(i), provider_outcome::transient);
  }
  // The fourth failure opened it: that call is answered unavailable.
  REQUIRE(s->answers.size() == 4);
  CHECK(s->answers[3].outcome == provider_outcome::unavailable);
  CHECK(s->answers[3].retry_after_ms == 5000);
  CHECK(s->answers[3].error.rfind("circuit_open", 0) == 0);
  call("refused");
  CHECK(s->adapter_calls.size() == 4); // never reached the adapter
  CHECK(s->answers.back().outcome == provider_outcome::unavailable);
  CHECK(info()["state"] == "open");
  REQUIRE(s->published.size() == 1);
  auto opened = s->published[0].get_as<std::vector<published_event>>(1);
  CHECK(opened.at(0).type == "provider.circuit_opened");
  // After open_for: half-open, one probe at a time.
  advance(5s);
  CHECK(info()["state"] == "half_open");
  call("probe");
  call("queued");
  REQUIRE(s->adapter_calls.size() == 5);
  CHECK(s->adapter_calls[4].message_id != "probe");
  answer(4, provider_outcome::ok, "p");
  // Closed: the queued call goes out.
  CHECK(info()["state"] == "closed");
  REQUIRE(s->adapter_calls.size() == 6);
  answer(5, provider_outcome::ok, "q");
  CHECK(s->answers.back().message_id == "queued");
  std::vector<std::string> changes;
  for (auto& m : s->published)
    changes.push_back(m.get_as<std::vector<published_event>>(1).at(0).type);
  CHECK(changes
        == std::vector<std::string>{"provider.circuit_opened",
                                    "provider.circuit_half_open",
                                    "provider.circuit_closed"});
}

TEST_CASE_METHOD(fixture,
                 "calls beyond the concurrency cap and the rate wait their "
                 "turn",
                 "[provider_connection]") {
  options.max_in_flight = 1;
  start();
  call("a");
  call("b");
  CHECK(s->adapter_calls.size() == 1);
  answer(0, provider_outcome::ok);
  CHECK(s->adapter_calls.size() == 2);
  answer(1, provider_outcome::ok);
  CHECK(s->answers.size() == 2);
}

TEST_CASE_METHOD(fixture, "the rate limit spaces calls out",
                 "[provider_connection]") {
  options.rate_per_s = 2;
  options.burst = 1;
  start();
  call("a");
  call("b");
  call("c");
  CHECK(s->adapter_calls.size() == 1);
  advance(500ms);
  CHECK(s->adapter_calls.size() == 2);
  advance(500ms);
  CHECK(s->adapter_calls.size() == 3);
}

// -- liveness: every admitted call ends and gives its breaker slot back ------

namespace {

/// Opens the fixture's circuit (min_calls 4, no retries) with four failures.
void open_circuit(fixture& f) {
  for (int i = 0; i < 4; ++i) {
    f.call("f" + std::to_string(i));
    f.answer(static_cast<size_t>(i), provider_outcome::transient);
  }
  REQUIRE(f.info()["state"] == "open");
}

/// No retries; the circuit opened and, open_for later, one probe out to the
/// adapter as its fifth call.
void probe_out(fixture& f) {
  f.options.retry = retry_policy{1, 100ms, 100ms, 10s};
  f.start();
  open_circuit(f);
  f.advance(5s);
  f.call("probe");
  REQUIRE(f.s->adapter_calls.size() == 5);
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "a probe that never answers times out, counts as failed and "
                 "the next half-open period has its slot again",
                 "[provider_connection]") {
  probe_out(*this);
  call("waits");
  REQUIRE(s->adapter_calls.size() == 5); // the probe only
  advance(1s);                           // the probe's call timeout
  CHECK(info()["state"] == "open");      // a lost probe is a failed one
  // Both callers were answered: the probe unknown-then-unavailable, the
  // queued one unavailable.
  REQUIRE(s->answers.size() == 6);
  CHECK(s->answers[4].message_id == "probe");
  CHECK(s->answers[4].outcome == provider_outcome::unavailable);
  CHECK(s->answers[5].message_id == "waits");
  // The late answer of the lost probe changes nothing.
  answer(4, provider_outcome::ok);
  CHECK(info()["state"] == "open");
  advance(5s);
  call("probe2");
  REQUIRE(s->adapter_calls.size() == 6); // the slot is free again
  answer(5, provider_outcome::ok);
  CHECK(info()["state"] == "closed");
}

TEST_CASE_METHOD(fixture,
                 "answers of calls admitted before the circuit opened neither "
                 "close it nor take a probe's slot",
                 "[provider_connection]") {
  options.retry = retry_policy{1, 100ms, 100ms, 10s};
  options.call_timeout = 60s;
  start();
  call("slow"); // in flight across the whole outage
  for (int i = 0; i < 4; ++i) {
    call("f" + std::to_string(i));
    answer(static_cast<size_t>(i + 1), provider_outcome::transient);
  }
  REQUIRE(info()["state"] == "open");
  advance(5s);
  call("probe");
  REQUIRE(s->adapter_calls.size() == 6);
  answer(0, provider_outcome::ok); // the old call: not a probe
  CHECK(info()["state"] == "half_open");
  call("queued");
  CHECK(s->adapter_calls.size() == 6); // the probe slot is still taken
  answer(5, provider_outcome::ok);     // the probe
  CHECK(info()["state"] == "closed");
  CHECK(s->adapter_calls.size() == 7); // and the queued call goes out
}

TEST_CASE_METHOD(fixture,
                 "failures that the connection's retries absorb do not count "
                 "against the circuit",
                 "[provider_connection]") {
  // Every call fails once and succeeds on its retry: 50 % of the attempts
  // fail, none of the calls.
  start();
  for (int i = 0; i < 8; ++i) {
    call("c" + std::to_string(i));
    auto n = s->adapter_calls.size();
    answer(n - 1, provider_outcome::transient);
    advance(100ms); // the retry's backoff
    REQUIRE(s->adapter_calls.size() == n + 1);
    answer(n, provider_outcome::ok);
  }
  CHECK(info()["state"] == "closed");
  CHECK(info()["errors"] == 8);
  CHECK(info()["retries"] == 8);
  REQUIRE(s->answers.size() == 8);
  for (auto& a : s->answers)
    CHECK(a.outcome == provider_outcome::ok);
}

TEST_CASE_METHOD(fixture,
                 "callers refused while open come back in waves, the oldest "
                 "first",
                 "[provider_connection]") {
  options.retry = retry_policy{1, 100ms, 100ms, 10s};
  options.breaker.ramp_step = 500ms;
  start();
  open_circuit(*this);
  s->answers.clear();
  for (int i = 0; i < 7; ++i)
    call("p" + std::to_string(i));
  REQUIRE(s->answers.size() == 7);
  std::vector<int64_t> after;
  for (auto& a : s->answers) {
    CHECK(a.outcome == provider_outcome::unavailable);
    after.push_back(a.retry_after_ms);
  }
  // The fourth failure's own caller was the first refused (probes = 1):
  // waves of 1, 2, 4 callers, 500 ms apart.
  CHECK(after
        == std::vector<int64_t>{5500, 5500, 6000, 6000, 6000, 6000, 6500});
}

TEST_CASE_METHOD(fixture,
                 "a probe whose caller is gone still ends and gives its slot "
                 "back",
                 "[provider_connection]") {
  probe_out(*this);
  // The saga that asked dies before the answer comes.
  caf::anon_send_exit(caller, caf::exit_reason::kill);
  sched->run();
  answer(4, provider_outcome::ok);
  // Its answer still counted: the probe closed the circuit.
  CHECK(info()["state"] == "closed");
  CHECK(info()["probes_in_flight"] == 0);
  CHECK(info()["in_flight"] == 0);
}

TEST_CASE_METHOD(fixture,
                 "a restarted connection starts closed with nothing in flight",
                 "[provider_connection]") {
  probe_out(*this); // the only probe slot taken...
  caf::anon_send_exit(conn, caf::exit_reason::kill);
  sched->run();
  start(); // ...and the connection restarted (as its supervisor would)
  CHECK(info()["state"] == "closed");
  CHECK(info()["in_flight"] == 0);
  // Closed, not half-open with a stranded slot: two calls go out at once.
  call("after1");
  call("after2");
  CHECK(s->adapter_calls.size() == 7);
  CHECK(info()["in_flight"] == 2);
}

TEST_CASE_METHOD(fixture,
                 "an answer after a retried attempt whose outcome was "
                 "unknown says the effect may exist",
                 "[provider_connection]") {
  options.breaker.min_calls = 100;
  start();
  call("c");
  answer(0, provider_outcome::unknown); // a lost answer: maybe taken
  advance(100ms);
  REQUIRE(s->adapter_calls.size() == 2);
  CHECK(s->adapter_calls[1].idempotency_key == "k"); // the same key
  answer(1, provider_outcome::transient);
  advance(100ms);
  REQUIRE(s->adapter_calls.size() == 3);
  answer(2, provider_outcome::transient);
  REQUIRE(s->answers.size() == 1);
  CHECK(s->answers[0].outcome == provider_outcome::transient);
  CHECK(s->answers[0].maybe_sent);
}
