#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/json_parse.hpp"

using namespace kassa;

namespace {

json_problem refused(const std::string& text, size_t depth = json_max_depth) {
  nlohmann::json out;
  auto problem = parse_json(text, out, depth);
  REQUIRE(problem);
  return *problem;
}

} // namespace

TEST_CASE("parse_json reads what nlohmann reads", "[json]") {
  nlohmann::json out;
  REQUIRE_FALSE(parse_json(R"({"a":[1,-2,3.5,"x",true,null,{"b":{}}]})", out));
  CHECK(out["a"][0] == 1);
  CHECK(out["a"][1] == -2);
  CHECK(out["a"][2] == 3.5);
  CHECK(out["a"][6]["b"].is_object());
  REQUIRE_FALSE(parse_json("  7 ", out));
  CHECK(out == 7);
}

TEST_CASE("parse_json names the field of a number out of range", "[json]") {
  auto p = refused(R"({"price_minor":1e400})");
  CHECK(p.field == "price_minor");
  CHECK(p.message == "number out of range: 1e400");
  CHECK(
    refused(R"({"items":[{"sku":"a","quantity":2},{"quantity":-9e999}]})").field
    == "items[1].quantity");
  CHECK(refused("[1e400]").field == "[0]");
  CHECK(refused("1e400").field.empty());
}

TEST_CASE("parse_json refuses bad syntax and deep nesting", "[json]") {
  for (auto text : {"", "{", "{\"a\":}", "[1,]", "nul", "{\"a\" 1}", "\"\\x\"",
                    "01", "[1] [2]", "\xff"}) {
    INFO(text);
    auto p = refused(text);
    CHECK(p.message.find("not valid JSON") == 0);
  }
  CHECK(refused(R"({"a":{"b":})").field == "a.b");
  CHECK(refused(std::string(3, '['), 2).message
        == "nested deeper than 2 levels");
  nlohmann::json out;
  CHECK_FALSE(parse_json("[[]]", out, 2));
  // Deep input never recurses: a million brackets is refused at once.
  CHECK(refused(std::string(1'000'000, '[')).message
        == "nested deeper than 64 levels");
}

TEST_CASE("parse_json's messages are printable ASCII", "[json]") {
  auto p = refused("{\"a\":\"\x01\"}");
  for (char c : p.message)
    CHECK((c >= 0x20 && c < 0x7f));
}
