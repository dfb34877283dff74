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
