#include <chrono>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/shards.hpp"

using namespace kassa;
using namespace std::chrono_literals;

TEST_CASE("an id's shard is FNV-1a of its bytes, the same everywhere",
          "[shards]") {
  // Fixed values: every node, build and version must agree on them.
  CHECK(shard_of("", 256) == 2166136261u % 256);
  CHECK(shard_of("a", 1u << 31) == 0xe40c292cu % (1u << 31));
  CHECK(shard_of("ord_01a24b0937fe9d0f7c3b", 256)
        == shard_of("ord_01a24b0937fe9d0f7c3b", 256));
  CHECK(shard_of("anything", 1) == 0);
  CHECK(shard_of("anything", 0) == 0);
  // A part of something lives where its owner does.
  CHECK(shard_of("sub_0a1b.3", 1u << 31) == shard_of("sub_0a1b", 1u << 31));
  CHECK(shard_of("a.b.c", 1u << 31) == 0xe40c292cu % (1u << 31));
  CHECK(shard_of("sub_0a1b", 1u << 31) != shard_of("sub_0a1c", 1u << 31));
  // Ids spread: 2560 sequential ids fill every one of 256 shards.
  std::map<uint32_t, int> count;
  for (int i = 0; i < 2560; ++i)
    ++count[shard_of("ord_" + std::to_string(i), 256)];
  CHECK(count.size() == 256);
  for (auto& [shard, n] : count)
    CHECK(n < 30);
}

TEST_CASE("a fair share is the larger part of the shards per live node",
          "[shards]") {
  CHECK(fair_share(256, 1) == 256);
  CHECK(fair_share(256, 2) == 128);
  CHECK(fair_share(256, 3) == 86);
  CHECK(fair_share(256, 0) == 256);
  CHECK(fair_share(3, 5) == 1);
}

TEST_CASE("ownership is what was confirmed, less what is dropped", "[shards]") {
  shard_ownership own{"n1", 7, 8};
  CHECK(own.node() == "n1");
  CHECK(own.incarnation() == 7);
  CHECK(own.current()->held == 0);
  CHECK(own.current()->fence == -1);
  own.confirm(3, {{1, 10}, {5, 2}, {9, 1}, {5, 4}}); // 9: out of range
  auto v = own.current();
  CHECK(v->fence == 3);
  CHECK(v->held == 2);
  CHECK(v->holds(1));
  CHECK(v->epoch_of(5) == 2); // the first mention counts
  CHECK_FALSE(v->holds(0));
  CHECK(v->epoch_of(9) == -1);
  CHECK(v->held_shards() == std::vector<int32_t>{1, 5});
  own.drop({5, 6});
  CHECK(own.current()->held_shards() == std::vector<int32_t>{1});
  CHECK(v->holds(5)); // a snapshot taken before does not change
  own.clear();
  CHECK(own.current()->held == 0);
  CHECK(own.current()->fence == 3);
}

TEST_CASE("an effect may leave only for a held shard on a lease not run out",
          "[shards]") {
  shard_ownership own{"n1", 1, 4};
  std::string id = "ord_x";
  auto shard = static_cast<int32_t>(shard_of(id, 4));
  own.confirm(1, {{shard, 1}});
  CHECK(own.holds(id));
  CHECK_FALSE(own.may_act(id)); // no renewal came back yet
  own.valid_until(std::chrono::steady_clock::now() + 10s);
  CHECK(own.may_act(id));
  own.valid_until(std::chrono::steady_clock::now() - 1ms);
  CHECK(own.holds(id));
  CHECK_FALSE(own.may_act(id)); // paused past the lease
  own.valid_until(std::chrono::steady_clock::now() + 10s);
  own.drop({shard});
  CHECK_FALSE(own.may_act(id));
}
