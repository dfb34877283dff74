#include <string>

#include <catch2/catch.hpp>

#include "runtime/group_commit.hpp"

using namespace kassa;

TEST_CASE("a group-commit queue hands out everything that waited, one batch "
          "at a time",
          "[group_commit]") {
  group_commit_queue<int> q;
  CHECK_FALSE(q.take()); // nothing waits
  q.push(1);
  q.push(2);
  auto first = q.take();
  REQUIRE(first);
  CHECK(*first == std::vector<int>{1, 2});
  q.push(3); // arrives while the batch is written
  q.push(4);
  CHECK_FALSE(q.take()); // one batch in flight at a time
  q.done();
  auto second = q.take();
  REQUIRE(second);
  CHECK(*second == std::vector<int>{3, 4});
  q.done();
  CHECK_FALSE(q.take());
}

namespace {

/// A batch of two parts, like the journal's (entries and the appends to
/// answer).
struct two_part_batch {
  std::vector<int> items;
  std::vector<std::string> waiting;

  bool empty() const {
    return items.empty() && waiting.empty();
  }
};

} // namespace

TEST_CASE("a group-commit front collects a batch of several parts and starts "
          "the next one empty",
          "[group_commit]") {
  group_commit<two_part_batch> front;
  CHECK_FALSE(front.take());
  front.next().waiting.push_back("a"); // waiting alone is work to answer
  front.next().items.push_back(1);
  auto first = front.take();
  REQUIRE(first);
  CHECK(front.writing());
  CHECK(first->items == std::vector<int>{1});
  CHECK(first->waiting == std::vector<std::string>{"a"});
  CHECK(front.next().empty()); // moved out, not copied
  front.next().items.push_back(2);
  CHECK_FALSE(front.take());
  front.done();
  CHECK_FALSE(front.writing());
  auto second = front.take();
  REQUIRE(second);
  CHECK(second->items == std::vector<int>{2});
  CHECK(second->waiting.empty());
}
