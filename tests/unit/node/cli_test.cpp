#include <catch2/catch.hpp>

#include "node/cli.hpp"

using namespace kassa;

TEST_CASE("command line: commands and flags", "[cli]") {
  auto c = parse_command_line({"kassa", "serve", "--http-port", "9000",
                               "--database-url=postgresql://x/y", "--config",
                               "my.json"},
                              {"KASSA_CONFIG=env.json"});
  REQUIRE(c.error.empty());
  CHECK(c.command == "serve");
  CHECK(c.sources.file == "my.json"); // the flag beats KASSA_CONFIG
  REQUIRE(c.sources.flags.size() == 2);
  CHECK(c.sources.flags[0].first == "--http-port");
  CHECK(c.sources.flags[1].second == "postgresql://x/y");
  CHECK(parse_command_line({"kassa", "migrate"}, {"KASSA_CONFIG=e.json"})
          .sources.file
        == "e.json");
}

TEST_CASE("command line: usage errors", "[cli]") {
  CHECK_FALSE(parse_command_line({"kassa"}, {}).error.empty());
  CHECK_FALSE(parse_command_line({"kassa", "fly"}, {}).error.empty());
  CHECK_FALSE(
    parse_command_line({"kassa", "serve", "extra"}, {}).error.empty());
  CHECK_FALSE(
    parse_command_line({"kassa", "serve", "--http-port"}, {}).error.empty());
  CHECK(parse_command_line({"kassa", "--help"}, {}).command == "help");
}
