#include <catch2/catch.hpp>

#include "runtime/database_health.hpp"

using namespace kassa;

TEST_CASE("database health: the first loss and the first return each change "
          "the state once, and a return starts a new epoch",
          "[database]") {
  database_health h;
  CHECK(h.up());
  CHECK(h.epoch() == 0);
  CHECK_FALSE(h.report_back()); // already up
  CHECK(h.report_lost("connection refused"));
  CHECK_FALSE(h.up());
  CHECK_FALSE(h.report_lost("another caller saw it too"));
  CHECK(h.last_reason() == "connection refused"); // the first one seen
  auto since = h.down_since();
  CHECK(since <= database_health::clock::now());
  CHECK(h.epoch() == 0); // connections stay until it is back
  CHECK(h.report_back());
  CHECK(h.up());
  CHECK(h.epoch() == 1);
  CHECK_FALSE(h.report_back());
  CHECK(h.epoch() == 1);
}
