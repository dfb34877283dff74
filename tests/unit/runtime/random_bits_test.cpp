#include <set>

#include <catch2/catch.hpp>

#include "runtime/random_bits.hpp"

using namespace kassa;

TEST_CASE("random bits do not repeat and differ between generators",
          "[random_bits]") {
  random_bits a;
  random_bits b;
  std::set<uint64_t> seen;
  for (int i = 0; i < 100000; ++i)
    seen.insert(a.next());
  CHECK(seen.size() == 100000);
  // A second generator is seeded apart: its first draws are not the
  // first one's.
  int shared = 0;
  for (int i = 0; i < 1000; ++i)
    shared += seen.count(b.next()) ? 1 : 0;
  CHECK(shared == 0);
  // Both halves of a word vary (order ids use the low 32 bits).
  std::set<uint32_t> low;
  std::set<uint32_t> high;
  for (int i = 0; i < 1000; ++i) {
    auto v = a.next();
    low.insert(static_cast<uint32_t>(v));
    high.insert(static_cast<uint32_t>(v >> 32));
  }
  CHECK(low.size() > 990);
  CHECK(high.size() > 990);
}
