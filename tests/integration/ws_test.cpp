// WebSocket notifications against a real node: real sockets, real clients.

#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"
#include "support/ws_client.hpp"

using namespace kassa::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool is_terminal(const std::string& event) {
  return event == "order.completed" || event == "order.cancelled"
         || event == "order.failed";
}

/// Reads event frames until `done` says so; counts every seq that does not
/// grow strictly (no Catch assertions here: it may run on its own thread).
struct event_reader {
  explicit event_reader(ws_client& client) : ws(client) {}

  ws_client& ws;
  std::vector<json> events;
  std::vector<json> others;
  int64_t last_seq = 0;
  int out_of_order = 0;

  template <class Done>
  bool read_until(Done done, std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      auto frame = ws.next(10s);
      if (!frame)
        return false;
      auto j = json::parse(*frame);
      if (j["type"] == "event") {
        auto seq = j["seq"].get<int64_t>();
        if (seq <= last_seq)
          ++out_of_order;
        last_seq = seq;
        events.push_back(std::move(j));
      } else {
        others.push_back(std::move(j));
      }
    }
    return true;
  }

  size_t terminal_count() const {
    size_t n = 0;
    for (auto& e : events)
      n += is_terminal(e["event"]);
    return n;
  }
};

std::string subscribe(std::vector<std::string> topics,
                      std::optional<int64_t> since = std::nullopt) {
  json j{{"op", "subscribe"}, {"topics", topics}};
  if (since)
    j["since"] = *since;
  return j.dump();
}

/// Every event seq of topic `orders` in the log.
std::vector<int64_t> log_seqs(shop& s) {
  std::vector<int64_t> out;
  int64_t after = 0;
  for (;;) {
    auto page = s.get("/v1/events?topic=orders&limit=1000&after="
                      + std::to_string(after));
    for (auto& e : page["events"])
      out.push_back(e["seq"].get<int64_t>());
    if (page["events"].empty())
      return out;
    after = page["next"];
  }
}

} // namespace

TEST_CASE("a subscriber to orders receives every terminal event once, in "
          "order",
          "[ws]") {
  shop s;
  s.add_product("ws-mug", 1000);
  ws_client ws{s.port, "/v1/ws?token=test-key"};
  ws.send_text(subscribe({"orders"}));
  auto ack = ws.next();
  REQUIRE(ack);
  CHECK(json::parse(*ack)
        == json{{"type", "subscribed"}, {"topics", {"orders"}}});
  auto ids = place_orders(s, 200, 16, [](int i) {
    return shop::order("ws-mug", i % 5 == 0 ? "tok_decline" : "tok_ok");
  });
  REQUIRE(ids.size() == 200);
  event_reader reader{ws};
  REQUIRE(reader.read_until([&] {
    return reader.terminal_count() >= 200;
  }));
  CHECK(reader.out_of_order == 0);
  std::map<std::string, int> terminal;
  for (auto& e : reader.events)
    if (is_terminal(e["event"]))
      ++terminal[e["data"]["order_id"].get<std::string>()];
  CHECK(terminal.size() == 200);
  for (auto& id : ids)
    CHECK(terminal[id] == 1);
  // What went out is exactly the log (no gap, no duplicate).
  REQUIRE(s.settle());
  auto frame_ws = ws.next(300ms); // nothing more is expected
  std::vector<int64_t> got;
  for (auto& e : reader.events)
    got.push_back(e["seq"]);
  CHECK(got == log_seqs(s));
  CHECK_FALSE(frame_ws.has_value());
}

TEST_CASE("a subscriber that reconnects with since gets exactly what it "
          "missed, then live events",
          "[ws]") {
  shop s;
  s.add_product("ws-pen", 1000);
  std::vector<int64_t> first_seqs;
  int64_t since = 0;
  {
    ws_client ws{s.port, "/v1/ws", "test-key"}; // key in the header
    ws.send_text(subscribe({"orders"}));
    REQUIRE(ws.next());
    place_orders(s, 40, 8, [](int) {
      return shop::order("ws-pen", "tok_ok");
    });
    event_reader reader{ws};
    REQUIRE(reader.read_until([&] {
      return reader.events.size() >= 60;
    }));
    for (auto& e : reader.events)
      first_seqs.push_back(e["seq"]);
    since = first_seqs.back();
  } // disconnect midway
  // While away: more orders.
  auto later = place_orders(s, 40, 8, [](int i) {
    return shop::order("ws-pen", "tok_ok", 1 + i % 2);
  });
  ws_client again{s.port, "/v1/ws?token=test-key"};
  again.send_text(subscribe({"orders"}, since));
  REQUIRE(again.next()); // subscribed
  // And live ones after the switch.
  auto live = place_orders(s, 10, 4, [](int) {
    return shop::order("ws-pen", "tok_ok");
  });
  REQUIRE(s.settle());
  auto total = log_seqs(s);
  event_reader reader{again};
  REQUIRE(reader.read_until([&] {
    return !reader.events.empty() && reader.last_seq >= total.back();
  }));
  std::vector<int64_t> all = first_seqs;
  for (auto& e : reader.events)
    all.push_back(e["seq"]);
  CHECK(reader.out_of_order == 0);
  CHECK(reader.events.front()["seq"] == since + 1);
  CHECK(all == total); // every event exactly once across the reconnect
}

TEST_CASE("a slow reader is cut off with 1013 while others keep receiving",
          "[ws]") {
  // The fast reader is never more than one batch (ten orders, ~130 frames)
  // behind: the next batch is placed only once it has read the last one's
  // outcomes, so a busy machine cannot make it look slow. The slow one
  // reads nothing and overflows its 512 frames (~1,950 are sent).
  shop s{{"KASSA_WS_MAX_QUEUE_FRAMES=512", "KASSA_WS_SEND_BUFFER_BYTES=8192"}};
  s.add_product("ws-cup", 1000);
  ws_client slow{s.port, "/v1/ws?token=test-key", {}, 2048};
  slow.send_text(subscribe({"orders"}));
  ws_client fast{s.port, "/v1/ws?token=test-key"};
  fast.send_text(subscribe({"orders"}));
  REQUIRE(fast.next());
  event_reader reader{fast};
  constexpr int batches = 15;
  constexpr int batch_size = 10;
  bool fast_ok = true;
  for (int b = 0; b < batches && fast_ok; ++b) {
    for (int i = 0; i < batch_size; ++i) {
      auto key = "slow-reader-" + std::to_string(b * batch_size + i);
      auto r = s.post("/v1/orders", shop::order("ws-cup", "tok_ok"),
                      {{"Idempotency-Key", key}});
      REQUIRE(r.status == 202);
    }
    auto placed = static_cast<size_t>((b + 1) * batch_size);
    fast_ok = reader.read_until([&] {
      return reader.terminal_count() >= placed;
    });
  }
  INFO("fast reader: " << reader.events.size() << " events, close code "
                       << fast.close_code());
  REQUIRE(fast_ok);
  CHECK(reader.out_of_order == 0);
  // The slow one now reads what reached its socket, then the close frame.
  int frames = 0;
  while (slow.next(5s))
    ++frames;
  CHECK(slow.close_code() == 1013);
  CHECK(slow.close_reason().find("since") != std::string::npos);
  CHECK(frames < 150 * 13);
  auto metrics = http_get(s.port, "/metrics").body;
  CHECK(metrics.find("kassa_ws_slow_closed_total 1\n") != std::string::npos);
}

TEST_CASE("customer tokens grant only their customer's topic", "[ws]") {
  shop s{{"KASSA_WS_CUSTOMER_TOKEN_SECRET=s3cret"}};
  auto issued = s.post("/v1/customer_tokens",
                       {{"customer_id", "c1"}, {"ttl_seconds", 600}});
  REQUIRE(issued.status == 201);
  auto token = json::parse(issued.body)["token"].get<std::string>();
  ws_client ws{s.port, "/v1/ws?token=" + token};
  ws.send_text(subscribe({"customer:c2"}));
  auto refused = json::parse(*ws.next());
  CHECK(refused["type"] == "error");
  CHECK(refused["error"]["code"] == "forbidden");
  ws.send_text(subscribe({"orders"}));
  CHECK(json::parse(*ws.next())["error"]["code"] == "forbidden");
  ws.send_text(subscribe({"customer:c1"}));
  CHECK(json::parse(*ws.next())["type"] == "subscribed");
  // Its own orders reach it.
  s.add_product("ws-hat", 10);
  s.post("/v1/orders", shop::order("ws-hat", "tok_ok")); // customer c1
  auto event = ws.next();
  REQUIRE(event); // (says so, rather than dereferencing nothing)
  auto first = json::parse(*event);
  INFO(*event);
  CHECK(first["event"] == "order.created");
  CHECK(first["data"]["order_id"].is_string());
  // Forged and tampered tokens, and no token at all, are refused at the door.
  auto tampered = token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  auto upgrade = [&](const std::string& target) {
    return http_request(s.port, "GET", target,
                        {{"Connection", "Upgrade"},
                         {"Upgrade", "websocket"},
                         {"Sec-WebSocket-Version", "13"},
                         {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}})
      .status;
  };
  CHECK(upgrade("/v1/ws?token=" + tampered) == 401);
  CHECK(upgrade("/v1/ws?token=ct1.6332.9999999999.00") == 401);
  CHECK(upgrade("/v1/ws") == 401);
  CHECK(upgrade("/v1/ws?token=wrong-key") == 401);
  CHECK_THROWS(ws_client(s.port, "/v1/ws?token=" + tampered));
  // An expired token is refused too.
  auto expired = s.post("/v1/customer_tokens",
                        {{"customer_id", "c1"}, {"ttl_seconds", 1}});
  auto old_token = json::parse(expired.body)["token"].get<std::string>();
  std::this_thread::sleep_for(2100ms);
  CHECK(upgrade("/v1/ws?token=" + old_token) == 401);
}

TEST_CASE("garbage and oversized frames are answered with error frames",
          "[ws]") {
  shop s{{"KASSA_WS_MAX_FRAME_BYTES=1024"}};
  ws_client ws{s.port, "/v1/ws?token=test-key"};
  auto error_code = [&] {
    auto frame = ws.next();
    REQUIRE(frame);
    auto j = json::parse(*frame);
    REQUIRE(j["type"] == "error");
    return j["error"]["code"].get<std::string>();
  };
  ws.send_text("this is not json");
  CHECK(error_code() == "malformed_frame");
  ws.send_text(R"({"op":"fly"})");
  CHECK(error_code() == "unknown_op");
  ws.send_text(R"({"op":"subscribe","topics":["nonsense"]})");
  CHECK(error_code() == "invalid_topics");
  ws.send_text(R"({"op":"subscribe","topics":["orders"],"since":-4})");
  CHECK(error_code() == "invalid_since");
  ws.send_binary(std::string(10, '\x01'));
  CHECK(error_code() == "unsupported_frame");
  ws.send_text(std::string(4096, ' ') + "{}");
  CHECK(error_code() == "frame_too_large");
  // Still connected and well.
  ws.send_text(R"({"op":"ping"})");
  CHECK(json::parse(*ws.next())["type"] == "pong");
  CHECK(http_get(s.port, "/healthz").status == 200);
}
