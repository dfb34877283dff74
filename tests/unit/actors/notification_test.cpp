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

TEST_CASE("a subscription's events belong to its own topics and not to the "
          "orders",
          "[notification][subscriptions]") {
  published_event e;
  e.seq = 9;
  e.type = "invoice.paid";
  e.order_id = "sub_0a1b"; // the journal's stream: the subscription
  e.customer_id = "c1";
  CHECK(topics_of(e)
        == std::vector<std::string>{"subscriptions", "subscription:sub_0a1b",
                                    "customer:c1"});
  CHECK(primary_topic(e) == "subscription:sub_0a1b");
  CHECK(matches("subscriptions", e));
  CHECK(matches("subscription:sub_0a1b", e));
  CHECK_FALSE(matches("subscription:sub_0a1", e));
  CHECK_FALSE(matches("orders", e));
  CHECK_FALSE(matches("order:sub_0a1b", e));
  CHECK(matches("customer:c1", e));
  published_event order;
  order.order_id = "ord_1";
  CHECK_FALSE(matches("subscriptions", order));
  CHECK_FALSE(matches("subscription:ord_1", order));
  CHECK(valid_topic("subscriptions"));
  CHECK(valid_topic("subscription:sub_0a1b"));
  CHECK_FALSE(valid_topic("subscription:"));
  CHECK_FALSE(valid_topic("order:sub_0a1b")); // its topic is its own
}

TEST_CASE("a ticket's events belong to tickets, its own topic and its "
          "customer's, never to orders",
          "[notification]") {
  published_event e;
  e.type = "ticket.message";
  e.order_id = "tk_0123456789abcdef";
  e.customer_id = "c1";
  CHECK(topics_of(e)
        == std::vector<std::string>{"tickets", "ticket:tk_0123456789abcdef",
                                    "customer:c1"});
  CHECK(primary_topic(e) == "ticket:tk_0123456789abcdef");
  CHECK(matches("ticket:tk_0123456789abcdef", e));
  CHECK(matches("tickets", e));
  CHECK(matches("customer:c1", e));
  CHECK_FALSE(matches("orders", e));
  CHECK_FALSE(matches("order:tk_0123456789abcdef", e));
  CHECK(valid_topic("tickets"));
  CHECK(valid_topic("ticket:tk_1"));
  CHECK_FALSE(valid_topic("ticket:"));
}
