#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/notification_hub.hpp"
#include "actors/type_ids.hpp"
#include "fakes/test_system.hpp"

using namespace kassa;
using namespace kassa::test;

namespace {

/// Records the chunks it is handed.
struct recording_sink : event_sink {
  std::vector<frame_chunk> chunks;
  void push(frame_chunk frames) override {
    chunks.push_back(std::move(frames));
  }
  std::vector<int64_t> seqs() const {
    std::vector<int64_t> out;
    for (auto& c : chunks)
      for (auto& f : *c) {
        auto frame = nlohmann::json::parse(*f);
        if (frame["type"] == "event")
          out.push_back(frame["seq"].get<int64_t>());
      }
    return out;
  }
  /// The frames' types in order ("subscribed", "event", ...).
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (auto& c : chunks)
      for (auto& f : *c)
        out.push_back(nlohmann::json::parse(*f)["type"].get<std::string>());
    return out;
  }
};

/// An empty log at seq 0 (nothing to replay).
struct empty_log : event_log {
  void read(int64_t, int64_t, std::vector<std::string>,
            std::function<void(std::vector<published_event>, std::string)> done)
    override {
    done({}, {});
  }
  void last_seq(std::function<void(int64_t, std::string)> done) override {
    done(0, {});
  }
};

published_event order_event(int64_t seq, std::string order,
                            std::string customer) {
  published_event e;
  e.seq = seq;
  e.type = "step.started";
  e.order_id = std::move(order);
  e.customer_id = std::move(customer);
  e.data = "{}";
  return e;
}

} // namespace

TEST_CASE("a run of events reaches each subscriber once, in order, sharing "
          "one chunk among those that get all of it",
          "[notification_hub]") {
  test_system t;
  caf::actor hub;
  t.sys->spawn(
    [&](caf::event_based_actor* self, int) {
      hub = spawn_notification_hub(self, std::make_shared<empty_log>(), nullptr,
                                   nullptr);
    },
    0);
  t.sched->run();
  auto all1 = std::make_shared<recording_sink>();
  auto all2 = std::make_shared<recording_sink>();
  auto c2 = std::make_shared<recording_sink>();
  auto both = std::make_shared<recording_sink>(); // orders and customer:c2
  auto subscribe
    = [&](uint64_t id, event_sink_ptr sink, std::vector<std::string> topics) {
        caf::anon_send(hub, atom::subscribe::value, id, std::move(sink),
                       std::move(topics), int64_t{-1});
        t.sched->run();
      };
  subscribe(1, all1, {"orders"});
  subscribe(2, all2, {"orders"});
  subscribe(3, c2, {"customer:c2"});
  subscribe(4, both, {"orders", "customer:c2"});
  caf::anon_send(hub, atom::publish::value,
                 std::vector<published_event>{order_event(1, "o1", "c1"),
                                              order_event(2, "o2", "c2"),
                                              order_event(3, "o1", "c1")});
  t.sched->run();
  // Each got its `subscribed` ack first, then the run in one chunk.
  REQUIRE(all1->chunks.size() == 2);
  CHECK(all1->types()
        == std::vector<std::string>{"subscribed", "event", "event", "event"});
  CHECK(*all1->chunks[0]->at(0)
        == R"({"topics":["orders"],"type":"subscribed"})");
  CHECK(all1->seqs() == std::vector<int64_t>{1, 2, 3});
  CHECK(all1->chunks[1] == all2->chunks[1]);            // the same shared chunk
  CHECK(both->seqs() == std::vector<int64_t>{1, 2, 3}); // no duplicate
  CHECK(c2->seqs() == std::vector<int64_t>{2});         // its own selection
  CHECK(c2->chunks[1] != all1->chunks[1]);
  CHECK(*c2->chunks[1]->at(0) == *all1->chunks[1]->at(1)); // same bytes
  // A later event that overtook one before it waits for it.
  caf::anon_send(hub, atom::publish::value,
                 std::vector<published_event>{order_event(5, "o2", "c2")});
  t.sched->run();
  CHECK(all1->seqs().size() == 3);
  caf::anon_send(hub, atom::publish::value,
                 std::vector<published_event>{order_event(4, "o1", "c1")});
  t.sched->run();
  CHECK(all1->seqs() == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK(c2->seqs() == std::vector<int64_t>{2, 5});
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  t.sched->run();
}

namespace {

/// A log whose position answers only when the test says so.
struct slow_log : empty_log {
  std::function<void(int64_t, std::string)> answer;
  void last_seq(std::function<void(int64_t, std::string)> done) override {
    answer = std::move(done);
  }
};

} // namespace

TEST_CASE("events published while the hub asks for the log's position reach "
          "the subscribers already there",
          "[notification_hub]") {
  test_system t;
  auto log = std::make_shared<slow_log>();
  caf::actor hub;
  t.sys->spawn(
    [&](caf::event_based_actor* self, int) {
      hub = spawn_notification_hub(self, log, nullptr, nullptr);
    },
    0);
  t.sched->run();
  REQUIRE(log->answer);
  auto sink = std::make_shared<recording_sink>();
  caf::anon_send(hub, atom::subscribe::value, uint64_t{1}, event_sink_ptr{sink},
                 std::vector<std::string>{"orders"}, int64_t{-1});
  t.sched->run();
  // Events 4 and 5 are committed and published; the position read after
  // them says 5 (1-3 were in the log before: not this hub's to send).
  caf::anon_send(hub, atom::publish::value,
                 std::vector<published_event>{order_event(4, "o1", "c1"),
                                              order_event(5, "o1", "c1")});
  t.sched->run();
  CHECK(sink->types() == std::vector<std::string>{"subscribed"});
  CHECK(sink->seqs().empty()); // not before the hub knows where it is
  log->answer(5, {});
  t.sched->run();
  CHECK(sink->seqs() == std::vector<int64_t>{4, 5});
  caf::anon_send(hub, atom::publish::value,
                 std::vector<published_event>{order_event(6, "o1", "c1")});
  t.sched->run();
  CHECK(sink->seqs() == std::vector<int64_t>{4, 5, 6});
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  t.sched->run();
}

namespace {

/// A log holding given events; counts the reads of a gap.
struct stored_log : empty_log {
  std::map<int64_t, published_event> events;
  int reads = 0;
  void read(int64_t after, int64_t upto, std::vector<std::string>,
            std::function<void(std::vector<published_event>, std::string)> done)
    override {
    ++reads;
    std::vector<published_event> out;
    for (auto& [seq, e] : events)
      if (seq > after && seq <= upto)
        out.push_back(e);
    done(std::move(out), {});
  }
};

} // namespace

TEST_CASE("a hub in a cluster hands its own events to the peers, delivers "
          "theirs without handing them on, and reads a gap only when no "
          "peer filled it",
          "[notification_hub]") {
  using namespace std::chrono_literals;
  test_system t;
  auto log = std::make_shared<stored_log>();
  auto to_peers = std::make_shared<std::vector<int64_t>>();
  auto slot = std::make_shared<child_slot>("cluster_mesh");
  // (The unused int: CAF 0.17 binds a null tuple for a functor with no
  // arguments, which UBSan reports.)
  auto peers = t.sys->spawn(
    [to_peers](caf::event_based_actor*, int) {
      return caf::behavior{
        [to_peers](atom::publish, const std::vector<published_event>& events) {
          for (auto& e : events)
            to_peers->push_back(e.seq);
        }};
    },
    0);
  slot->set(peers, caf::actor_addr{});
  caf::actor hub;
  t.sys->spawn(
    [&](caf::event_based_actor* self, int) {
      hub = spawn_notification_hub(
        self, log, nullptr, nullptr,
        hub_cluster{10s, 50ms, child_handle<event_peers_actor>{slot}});
    },
    0);
  t.sched->run();
  auto sink = std::make_shared<recording_sink>();
  caf::anon_send(hub, atom::subscribe::value, uint64_t{1}, event_sink_ptr{sink},
                 std::vector<std::string>{"orders"}, int64_t{-1});
  t.sched->run();
  auto own = [&](int64_t seq) {
    caf::anon_send(hub, atom::publish::value,
                   std::vector<published_event>{order_event(seq, "o1", "c1")});
    t.sched->run();
  };
  auto theirs = [&](int64_t seq) {
    caf::anon_send(hub, atom::peer::value,
                   std::vector<published_event>{order_event(seq, "o2", "c2")});
    t.sched->run();
  };
  own(1);
  theirs(2);
  own(4); // 3 is another node's, on its way
  CHECK(sink->seqs() == std::vector<int64_t>{1, 2});
  theirs(3);
  CHECK(sink->seqs() == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(log->reads == 0); // pushed in time: nothing read from the log
  CHECK(*to_peers == std::vector<int64_t>{1, 4});
  // A gap nobody pushes (its node is cut off) is read after the wait (at
  // most two: the wait armed for the earlier gap saw progress and waits
  // once more).
  log->events[5] = order_event(5, "o3", "c3");
  own(6);
  CHECK(sink->seqs().size() == 4);
  t.advance(60ms);
  t.advance(60ms);
  CHECK(log->reads == 1);
  CHECK(sink->seqs() == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(*to_peers == std::vector<int64_t>{1, 4, 6});
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(peers, caf::exit_reason::user_shutdown);
  t.sched->run();
}
