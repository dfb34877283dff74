#include <catch2/catch.hpp>

#include "adapters/postgres/arrays.hpp"

using namespace kassa::pg;

TEST_CASE("text arrays quote every element and escape quotes and backslashes",
          "[pg][arrays]") {
  CHECK(text_array(std::vector<std::string>{}) == "{}");
  CHECK(text_array(std::vector<std::string>{"a", ""}) == R"({"a",""})");
  CHECK(text_array(std::vector<std::string>{R"(x"y\z)", "a,b", "{}"})
        == R"({"x\"y\\z","a,b","{}"})");
  // The word NULL is text when quoted.
  CHECK(text_array(std::vector<std::string>{"NULL"}) == R"({"NULL"})");
  // Specials next to each other, first and last.
  CHECK(text_array(std::vector<std::string>{R"(""\)"}) == R"({"\"\"\\"})");
}

TEST_CASE("nullable text arrays write SQL NULL unquoted", "[pg][arrays]") {
  std::vector<std::optional<std::string>> items{"k1", std::nullopt, "NULL"};
  CHECK(text_array(items) == R"({"k1",NULL,"NULL"})");
  CHECK(text_array(std::vector<std::optional<std::string>>{std::nullopt})
        == "{NULL}");
}

TEST_CASE("integer arrays", "[pg][arrays]") {
  CHECK(int_array({}) == "{}");
  CHECK(int_array({1, -2, 9007199254740993}) == "{1,-2,9007199254740993}");
}

TEST_CASE("statements that look rows up by an array are planned per call",
          "[pg][arrays]") {
  CHECK(joins_array_parameter("SELECT sku FROM products WHERE sku = "
                              "ANY($1::text[]) FOR UPDATE"));
  CHECK(joins_array_parameter("UPDATE reservations AS r SET status = "
                              "v.status FROM unnest($1::text[], $2::text[]) "
                              "AS v(order_id, status) WHERE r.order_id = "
                              "v.order_id"));
  CHECK(joins_array_parameter("SELECT k.key FROM idempotency_keys AS k JOIN "
                              "unnest($1::text[]) AS v(key) ON k.key = v.key"));
  CHECK_FALSE(joins_array_parameter(
    "INSERT INTO events (seq, type) SELECT * FROM unnest($1::bigint[], "
    "$2::text[])"));
  CHECK(joins_array_parameter(
    "WITH s AS ( UPDATE sagas AS s SET status = v.status FROM "
    "unnest($1::text[], $2::text[]) AS v(id, status) WHERE s.id = v.id) "
    "INSERT INTO events (seq) SELECT * FROM unnest($3::bigint[])"));
  CHECK_FALSE(joins_array_parameter(
    "WITH e AS (INSERT INTO saga_events (seq) SELECT * FROM "
    "unnest($1::int[])) INSERT INTO events (seq) SELECT * FROM "
    "unnest($2::bigint[])"));
  CHECK_FALSE(joins_array_parameter("SELECT status FROM sagas WHERE id = $1"));
}

TEST_CASE("column helpers: empty text is NULL, empty JSON is an object",
          "[pg][arrays]") {
  CHECK_FALSE(null_if_empty("").has_value());
  CHECK(null_if_empty("o1") == std::optional<std::string>{"o1"});
  CHECK(json_or_empty_object("") == "{}");
  CHECK(json_or_empty_object(R"({"a":1})") == R"({"a":1})");
}
