#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/json_text.hpp"

using namespace kassa;

namespace {

std::string literal(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

} // namespace

TEST_CASE("JSON string literals are printed as nlohmann prints them",
          "[json_text]") {
  for (std::string text :
       {std::string{}, std::string{"plain"}, std::string{"q\"b\\s/"},
        std::string{"\b\f\n\r\t\x01\x1f\x7f"},
        std::string{"\xC3\xA9\xE2\x82\xAC"},
        std::string{"\xF0\x9F\x98\x80 four bytes"}})
    CHECK(literal(text) == nlohmann::json(text).dump());
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD, one each", "[json_text]") {
  const std::string r = "\xEF\xBF\xBD";
  CHECK(literal("a\xFF"
                "b")
        == "\"a" + r + "b\"");
  CHECK(literal("\xC0\xAF") == "\"" + r + r + "\"");         // overlong '/'
  CHECK(literal("\xED\xA0\x80") == "\"" + r + r + r + "\""); // surrogate
  CHECK(literal("\xF4\x90\x80\x80")
        == "\"" + r + r + r + r + "\""); // > U+10FFFF
  CHECK(literal("cut \xE2\x82") == "\"cut " + r + r + "\"");
  // Whatever comes in, what comes out parses.
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  CHECK_NOTHROW(nlohmann::json::parse(literal(all)));
}
