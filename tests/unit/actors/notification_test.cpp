#include <catch2/catch.hpp>

#include "actors/notification.hpp"

using namespace kassa;

TEST_CASE("events belong to their order's and customer's topics",
          "[notification]") {
  published_event e;
  e.seq = 7;
  e.type = "order.completed";
  e.order_id = "ord_1";
  e.customer_id = "c1";
  e.data = R"({"status":"completed"})";
  e.at = "2026-11-23T00:00:00.000Z";
  CHECK(topics_of(e)
        == std::vector<std::string>{"orders", "order:ord_1", "customer:c1"});
  CHECK(matches("orders", e));
  CHECK(matches("order:ord_1", e));
  CHECK_FALSE(matches("order:ord_10", e));
  CHECK_FALSE(matches("order:ord_", e));
  CHECK(matches("customer:c1", e));
  CHECK_FALSE(matches("customer:c2", e));
  CHECK_FALSE(matches("providers", e));
  CHECK(
    event_frame(e)
    == R"({"type":"event","seq":7,"topic":"order:ord_1","event":"order.completed","at":"2026-11-23T00:00:00.000Z","data":{"status":"completed"}})");
}

TEST_CASE("topic names are checked", "[notification]") {
  for (auto t : {"orders", "providers", "order:ord_1", "customer:c-1"})
    CHECK(valid_topic(t));
  for (auto t : {"", "order:", "customer:", "order", "nope", "order:a b",
                 "customer:a\"b"})
    CHECK_FALSE(valid_topic(t));
  CHECK(error_frame("x", "a \"b\"")
        == R"({"type":"error","error":{"code":"x","message":"a \"b\""}})");
}
