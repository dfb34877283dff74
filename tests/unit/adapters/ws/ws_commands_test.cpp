#include <catch2/catch.hpp>

#include "adapters/ws/ws_commands.hpp"

using namespace kassa::ws;

namespace {

client_command ok(const std::string& text, bool full = true,
                  const std::string& customer = {}) {
  auto r = parse_client_command(text, full, customer);
  INFO(text);
  REQUIRE(std::holds_alternative<client_command>(r));
  return std::get<client_command>(r);
}

std::string refused(const std::string& text, bool full = true,
                    const std::string& customer = {}) {
  auto r = parse_client_command(text, full, customer);
  INFO(text);
  REQUIRE(std::holds_alternative<command_error>(r));
  return std::get<command_error>(r).code;
}

} // namespace

TEST_CASE("client commands: ping, subscribe with since, unsubscribe",
          "[ws][commands]") {
  CHECK(ok(R"({"op":"ping"})").what == client_command::kind::ping);
  auto sub = ok(R"({"op":"subscribe","topics":["orders","order:o1"]})");
  CHECK(sub.what == client_command::kind::subscribe);
  CHECK(sub.topics == std::vector<std::string>{"orders", "order:o1"});
  CHECK(sub.since == -1);
  CHECK(ok(R"({"op":"subscribe","topics":["orders"],"since":0})").since == 0);
  CHECK(ok(R"({"op":"subscribe","topics":["providers"],"since":42})").since
        == 42);
  auto unsub = ok(R"({"op":"unsubscribe","topics":["orders"]})");
  CHECK(unsub.what == client_command::kind::unsubscribe);
  CHECK(unsub.topics == std::vector<std::string>{"orders"});
}

TEST_CASE("client commands: what is refused, and why", "[ws][commands]") {
  CHECK(refused("not json") == "malformed_frame");
  CHECK(refused("[1,2]") == "malformed_frame");
  CHECK(refused(R"({"op":"subscribe","topics":["orders"],"since":1e400})")
        == "malformed_frame");
  CHECK(refused(R"({"op":5})") == "unknown_op");
  CHECK(refused(std::string(20, '[')) == "malformed_frame");
  CHECK(refused(R"({"op":"dance"})") == "unknown_op");
  CHECK(refused(R"({"topics":["orders"]})") == "unknown_op");
  CHECK(refused(R"({"op":"subscribe"})") == "invalid_topics");
  CHECK(refused(R"({"op":"subscribe","topics":[]})") == "invalid_topics");
  CHECK(refused(R"({"op":"subscribe","topics":"orders"})") == "invalid_topics");
  CHECK(refused(R"({"op":"subscribe","topics":["nope"]})") == "invalid_topics");
  CHECK(refused(R"({"op":"subscribe","topics":[7]})") == "invalid_topics");
  CHECK(refused(R"({"op":"subscribe","topics":["orders"],"since":-1})")
        == "invalid_since");
  CHECK(refused(R"({"op":"subscribe","topics":["orders"],"since":"5"})")
        == "invalid_since");
  std::string many = R"({"op":"subscribe","topics":[)";
  for (int i = 0; i < 101; ++i)
    many += (i ? "," : "") + std::string{R"("orders")"};
  CHECK(refused(many + "]}") == "invalid_topics");
}

TEST_CASE("a customer token grants only its own customer's topic",
          "[ws][commands]") {
  auto own = ok(R"({"op":"subscribe","topics":["customer:c1"]})", false, "c1");
  CHECK(own.topics == std::vector<std::string>{"customer:c1"});
  CHECK(refused(R"({"op":"subscribe","topics":["customer:c2"]})", false, "c1")
        == "forbidden");
  CHECK(refused(R"({"op":"subscribe","topics":["orders"]})", false, "c1")
        == "forbidden");
  // An API key may subscribe to any customer.
  CHECK(ok(R"({"op":"subscribe","topics":["customer:c2"]})").topics.size()
        == 1);
}
