#include <future>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "adapters/ws/io_lanes.hpp"

using kassa::io_lanes;

namespace {

std::thread::id thread_of(io_lanes& lanes, int lane) {
  std::promise<std::thread::id> id;
  boost::asio::post(lanes.context(lane), [&id] {
    id.set_value(std::this_thread::get_id());
  });
  return id.get_future().get();
}

} // namespace

TEST_CASE("each lane runs its handlers on its own thread", "[ws][lanes]") {
  io_lanes lanes{3, "test-lane"};
  REQUIRE(lanes.size() == 3);
  std::set<std::thread::id> seen;
  for (int i = 0; i < 3; ++i) {
    auto first = thread_of(lanes, i);
    // Always the same thread for one lane: what a connection does there
    // needs no strand.
    CHECK(thread_of(lanes, i) == first);
    CHECK(first != std::this_thread::get_id());
    seen.insert(first);
  }
  CHECK(seen.size() == 3);
}

TEST_CASE("a lane with nothing to do keeps running until stopped",
          "[ws][lanes]") {
  io_lanes lanes{1, "test-lane"};
  // Idle for a moment (no work queued): the work guard keeps run() alive,
  // so a later post still runs.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(thread_of(lanes, 0) != std::this_thread::get_id());
  lanes.stop();
  lanes.stop(); // idempotent; the destructor stops again
  bool ran = false;
  boost::asio::post(lanes.context(0), [&ran] {
    ran = true;
  });
  CHECK_FALSE(ran); // stopped: queued, destroyed with the context
}
