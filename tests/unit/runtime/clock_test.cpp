#include <chrono>

#include <catch2/catch.hpp>

#include "runtime/clock.hpp"

using namespace kassa;
using namespace std::chrono;

TEST_CASE("the test clock runs with the machine's and only moves forward",
          "[clock]") {
  auto machine = make_system_clock();
  CHECK_FALSE(machine->movable());
  CHECK_FALSE(machine->advance(hours{1}));
  auto clock = make_test_clock(5000);
  CHECK(clock->movable());
  CHECK(clock->offset() == milliseconds{5000});
  CHECK(clock->advance(hours{24}));
  CHECK_FALSE(clock->advance(milliseconds{0}));
  CHECK_FALSE(clock->advance(milliseconds{-1}));
  CHECK(clock->offset() == hours{24} + milliseconds{5000});
  auto ahead = clock->now() - system_clock::now();
  CHECK(ahead >= hours{24});
  CHECK(ahead < hours{24} + seconds{10});
  CHECK(clock->now_ms() > machine->now_ms() + 86'400'000 - 1000);
}

TEST_CASE("times are written as RFC 3339 in UTC", "[clock]") {
  CHECK(rfc3339(sys_seconds{}) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(sys_days{year{2028} / February / 29} + hours{23} + minutes{5})
        == "2028-02-29T23:05:00Z");
}
