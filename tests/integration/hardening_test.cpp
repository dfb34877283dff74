// No input stops a node (issue 18): bad numbers, oversized bodies, slow
// clients, rate limits, a bounded exit, and a sweep of malformed requests —
// against the real kassa process over real sockets.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/shop.hpp"
#include "support/ws_client.hpp"

using namespace kassa::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A loopback connection that reports how the server ended the exchange:
/// an answer, a clean close (EOF), or nothing at all within the timeout.
class probe {
public:
  explicit probe(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("connect failed");
  }
  ~probe() {
    ::close(fd_);
  }
  probe(const probe&) = delete;
  probe& operator=(const probe&) = delete;

  /// Sends everything; false once the peer stopped taking bytes.
  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      auto n
        = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  struct outcome {
    int status = 0;      ///< 0: no answer
    bool closed = false; ///< the server closed (EOF or reset)
    std::string raw;
  };

  /// Reads until the first answer's head is complete and the server closes,
  /// or `timeout` passes.
  outcome read(std::chrono::milliseconds timeout = 5s) {
    outcome o;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[16384];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0)
        break;
      auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        o.closed = true;
        break;
      }
      o.raw.append(chunk, static_cast<size_t>(n));
      // An answer that keeps the connection open ends the read too.
      if (contains(o.raw, "\r\n\r\n") && !contains(o.raw, "Connection: close")
          && !contains(o.raw, "connection: close"))
        break;
    }
    if (o.raw.rfind("HTTP/1.", 0) == 0 && o.raw.size() >= 12)
      o.status = std::stoi(o.raw.substr(9, 3));
    return o;
  }

private:
  int fd_ = -1;
};

/// Waits for the node to exit; checks it did within `bound` of `since`.
int exit_code_within(shop& s, std::chrono::steady_clock::time_point since,
                     std::chrono::milliseconds bound) {
  auto code = s.node->wait_exit(bound + 1s);
  INFO(s.node->output());
  REQUIRE(code);
  CHECK(std::chrono::steady_clock::now() - since < bound);
  return *code;
}

std::string metrics(uint16_t port) {
  auto m = http_get(port, "/metrics");
  REQUIRE(m.status == 200);
  return m.body;
}

} // namespace

TEST_CASE("a number beyond a double's range is 400 naming the field on every "
          "JSON route and in a WebSocket command, the node still serves",
          "[hardening]") {
  shop s{{"KASSA_WS_CUSTOMER_TOKEN_SECRET=s3cret",
          "KASSA_DEBUG_FAULT_SWITCHES=true"}};
  s.add_product("x", 5);
  struct attempt {
    std::string path, body, field;
  };
  std::vector<attempt> attempts{
    {"/v1/products",
     R"({"sku":"y","name":"n","price_minor":1e400,"currency":"HUF","stock":1})",
     "price_minor"},
    {"/v1/products/x/stock", R"({"delta":-1e400})", "delta"},
    {"/v1/orders",
     R"({"customer":{"id":"c1"},"items":[{"sku":"x","quantity":1e400}]})",
     "items[0].quantity"},
    {"/v1/customer_tokens", R"({"customer_id":"c1","ttl_seconds":1E999})",
     "ttl_seconds"},
    {"/v1/providers/sandbox-payment/chaos", R"({"failure_rate":1e400})",
     "failure_rate"},
    {"/v1/debug/faults", R"({"fault":[2e308]})", "fault[0]"},
  };
  for (auto& a : attempts) {
    INFO(a.path << " " << a.body);
    auto r = http_request(s.port, "POST", a.path,
                          with_key({{"Content-Type", "application/json"},
                                    {"Idempotency-Key", "k-" + a.path}}),
                          a.body);
    CHECK(r.status == 400);
    auto j = json::parse(r.body);
    CHECK(j["error"]["code"] == "malformed_json");
    CHECK(j["error"]["field"] == a.field);
    CHECK(contains(j["error"]["message"], "out of range"));
    REQUIRE(http_get(s.port, "/healthz").status == 200);
  }
  // Nothing was created by any of them.
  CHECK(http_get(s.port, "/v1/products/y", with_key()).status == 404);
  CHECK(s.db.scalar("SELECT count(*) FROM sagas") == "0");
  ws_client ws{s.port, "/v1/ws?token=test-key"};
  ws.send_text(R"({"op":"subscribe","topics":["orders"],"since":1e400})");
  auto frame = ws.next();
  REQUIRE(frame);
  auto j = json::parse(*frame);
  CHECK(j["type"] == "error");
  CHECK(j["error"]["code"] == "malformed_frame");
  CHECK(contains(j["error"]["message"], "since: number out of range"));
  ws.send_text(R"({"op":"ping"})");
  auto pong = ws.next();
  REQUIRE(pong);
  CHECK(json::parse(*pong)["type"] == "pong");
  CHECK(http_get(s.port, "/healthz").status == 200);
  CHECK_FALSE(contains(metrics(s.port), "kassa_unhandled_errors_total{"));
}

TEST_CASE("exception boundaries answer 500 with the request id, count, and "
          "keep the node serving",
          "[hardening]") {
  shop s{{"KASSA_DEBUG_FAULT_SWITCHES=true"}};
  auto fault = [&](const std::string& name) {
    return s.post("/v1/debug/faults", {{"fault", name}});
  };
  auto thrown = fault("handler_throw");
  CHECK(thrown.status == 500);
  CHECK(json::parse(thrown.body)["error"]["code"] == "internal");
  CHECK(contains(thrown.body, thrown.header("x-request-id")));
  CHECK_FALSE(contains(thrown.body, "fault switch"));
  CHECK(fault("io_throw").status == 202);
  CHECK(fault("nonsense").status == 422);
  // The I/O loop caught what escaped its handler and goes on.
  for (int i = 0; i < 5; ++i)
    REQUIRE(http_get(s.port, "/healthz").status == 200);
  auto m = metrics(s.port);
  CHECK(
    contains(m, "kassa_unhandled_errors_total{where=\"http_handler\"} 1\n"));
  CHECK(contains(m, "kassa_unhandled_errors_total{where=\"http_io\"} 1\n"));
  auto log = s.node->output();
  CHECK(contains(log, "\"error\":\"fault switch: handler_throw\""));
  CHECK(contains(log, "\"request_id\":\"" + thrown.header("x-request-id")));
}

TEST_CASE("a client that writes a whole body over the limit before it reads "
          "gets the 413",
          "[hardening]") {
  shop s{{"KASSA_HTTP_BODY_LIMIT_BYTES=65536"}};
  for (auto chunked : {false, true}) {
    INFO("chunked " << chunked);
    probe p{s.port};
    const size_t size = 8 << 20; // 128 times the limit
    std::string head = "POST /v1/products HTTP/1.1\r\nHost: a\r\n"
                       "Authorization: Bearer test-key\r\n"
                       "Content-Type: application/json\r\n";
    std::string body(size, ' ');
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      std::string framed;
      for (size_t off = 0; off < size; off += 65536)
        framed += "10000\r\n" + body.substr(off, 65536) + "\r\n";
      body = framed + "0\r\n\r\n";
    } else {
      head += "Content-Length: " + std::to_string(size) + "\r\n\r\n";
    }
    // Everything is written before a byte is read (as urllib does): the
    // node must keep reading after its answer or the client gets a reset.
    REQUIRE(p.send(head + body));
    auto o = p.read();
    CHECK(o.status == 413);
    CHECK(contains(o.raw, "payload_too_large"));
  }
  CHECK(http_get(s.port, "/healthz").status == 200);
}

TEST_CASE("a client that sends its headers a byte a second is closed",
          "[hardening]") {
  shop s{{"KASSA_HTTP_HEADER_TIMEOUT_MS=2000"}};
  probe p{s.port};
  std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "User-Agent: slowloris\r\n\r\n";
  bool closed = false;
  size_t sent = 0;
  while (sent < request.size() && !closed) {
    if (!p.send(request.substr(sent, 1)))
      break;
    ++sent;
    // Waits a second for the server to close; it must not answer.
    auto o = p.read(1s);
    CHECK(o.status == 0);
    closed = o.closed;
  }
  CHECK(closed);
  CHECK(sent < 10); // closed after about 2 of the 59 bytes' seconds
  CHECK(http_get(s.port, "/healthz").status == 200);
  CHECK(contains(metrics(s.port), "kassa_http_header_timeouts_total 1\n"));
}

TEST_CASE("over its rate an API key gets 429 with Retry-After", "[hardening]") {
  shop s{{"KASSA_HTTP_RATE_LIMIT_PER_S=1", "KASSA_HTTP_RATE_LIMIT_BURST=5"}};
  // The shop's start-up used no /v1/ request: the bucket is full.
  std::vector<int> statuses;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    auto r = http_get(s.port, "/v1/node", with_key());
    statuses.push_back(r.status);
    if (r.status == 429) {
      retry_after = r.header("retry-after");
      CHECK(json::parse(r.body)["error"]["code"] == "rate_limited");
    }
  }
  for (int i = 0; i < 5; ++i)
    CHECK(statuses[static_cast<size_t>(i)] == 200);
  CHECK(std::count(statuses.begin(), statuses.end(), 429) >= 5);
  REQUIRE_FALSE(retry_after.empty());
  CHECK(std::stoi(retry_after) >= 1);
  // Health checks and metrics are not limited.
  CHECK(http_get(s.port, "/healthz").status == 200);
  CHECK(contains(metrics(s.port), "route=\"rate_limited\",status=\"429\"}"));
}

TEST_CASE("open connections beyond the cap are answered 503 and closed",
          "[hardening]") {
  shop s{{"KASSA_HTTP_MAX_CONNECTIONS=3"}};
  std::vector<std::unique_ptr<probe>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(std::make_unique<probe>(s.port));
  // Each one is a session once the server answered on it.
  for (auto& h : held) {
    REQUIRE(h->send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(h->read().status == 200);
  }
  probe extra{s.port};
  auto o = extra.read();
  CHECK(o.status == 503);
  CHECK(o.closed);
  CHECK(contains(o.raw, "Retry-After: 1"));
  held.clear();
  // Slots come back as the held connections close.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(20ms);
    status = http_get(s.port, "/healthz").status;
  }
  CHECK(status == 200);
  CHECK(contains(metrics(s.port), "kassa_http_connections_refused_total 1\n"));
}

TEST_CASE("SIGTERM with a stuck client and a saga waiting on a silent "
          "provider ends the process with 0 within the bound",
          "[hardening]") {
  // Shipping answers after 60 s and nobody gives up on it before: the saga
  // waits on a silent provider for the whole test.
  shop s{{"KASSA_SHUTDOWN_GRACE_MS=2000", "KASSA_SHUTDOWN_EXIT_TIMEOUT_MS=3000",
          "KASSA_PROVIDERS_OVERRIDES=sandbox-shipping.call_timeout_ms=120000",
          "KASSA_ORDERS_CALL_TIMEOUT_MS=120000"}};
  s.add_product("mug", 5);
  auto chaos
    = s.post("/v1/providers/sandbox-shipping/chaos", {{"latency_ms", 60000}});
  REQUIRE(chaos.status == 200);
  auto placed = s.post("/v1/orders", shop::order("mug", "tok_ok"),
                       {{"Idempotency-Key", "silent-1"}});
  REQUIRE(placed.status == 202);
  auto id = json::parse(placed.body)["id"].get<std::string>();
  // The saga reaches the shipping step and waits there.
  // The saga is charged and waits for the shipment.
  auto o = s.wait_for(
    id,
    [](const json& order) {
      return order["status"] == "running"
             && order["steps"][2]["status"] == "done";
    },
    30s);
  REQUIRE(o["status"] == "running");
  REQUIRE(o["steps"][2]["status"] == "done");
  // A client that sent half a request body and then nothing.
  probe stuck{s.port};
  REQUIRE(stuck.send("POST /v1/products HTTP/1.1\r\nHost: a\r\n"
                     "Authorization: Bearer test-key\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: 100\r\n\r\n{\"sku\":"));
  // And one in the middle of a request that waits for its answer.
  probe waiting{s.port};
  REQUIRE(waiting.send("GET /v1/orders/" + id
                       + " HTTP/1.1\r\nHost: a\r\n"
                         "Authorization: Bearer test-key\r\n\r\n"));
  auto start = std::chrono::steady_clock::now();
  s.node->signal(SIGTERM);
  // Grace 2 s + exit timeout 3 s, and a little for the process to go.
  CHECK(exit_code_within(s, start, 2000ms + 3000ms + 2000ms) == 0);
  CHECK(contains(s.node->output(), "\"message\":\"stopped\""));
  // The saga is where it was: the next start resumes it.
  CHECK(s.db.scalar("SELECT status FROM sagas WHERE id = '" + id + "'")
        == "running");
}

TEST_CASE("a node that loses its HTTP loop exits non-zero within the bound",
          "[hardening]") {
  shop s{
    {"KASSA_DEBUG_FAULT_SWITCHES=true", "KASSA_SHUTDOWN_EXIT_TIMEOUT_MS=3000"}};
  auto start = std::chrono::steady_clock::now();
  try {
    s.post("/v1/debug/faults", {{"fault", "http_loop"}});
  } catch (std::exception&) {
    // The answer may be lost with the loop.
  }
  CHECK(exit_code_within(s, start, 3000ms + 2000ms) == 1);
  CHECK(contains(s.node->output(), "HTTP loop lost"));
}

TEST_CASE("SIGTERM ends the process even when an actor never stops",
          "[hardening]") {
  shop s{{"KASSA_DEBUG_FAULT_SWITCHES=true", "KASSA_SHUTDOWN_GRACE_MS=1000",
          "KASSA_SHUTDOWN_EXIT_TIMEOUT_MS=2000"}};
  REQUIRE(s.post("/v1/debug/faults", {{"fault", "stuck_actor"}}).status == 202);
  auto start = std::chrono::steady_clock::now();
  s.node->signal(SIGTERM);
  // The watchdog ended it: not a clean stop, so not 0.
  CHECK(exit_code_within(s, start, 1000ms + 2000ms + 2000ms) == 1);
  CHECK(contains(s.node->output(), "shutdown did not finish in time"));
}

TEST_CASE("a sweep of malformed requests: each answered 4xx or closed "
          "cleanly, the node fine after each",
          "[hardening]") {
  shop s{
    {"KASSA_HTTP_HEADER_TIMEOUT_MS=2000", "KASSA_HTTP_BODY_TIMEOUT_MS=2000"}};
  const std::string key = "Authorization: Bearer test-key\r\n";
  const std::string json_ct = "Content-Type: application/json\r\n";
  auto post = [&](const std::string& path, const std::string& body,
                  const std::string& extra = {}) {
    return "POST " + path + " HTTP/1.1\r\nHost: a\r\n" + key + json_ct + extra
           + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"
           + body;
  };
  std::string tls_hello{"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11};
  tls_hello += std::string(160, '\x00');
  std::vector<std::pair<std::string, std::string>> cases{
    {"garbage line", "GARBAGE\r\n\r\n"},
    {"method only", "GET\r\n\r\n"},
    {"unknown version", "GET / HTTP/9.9\r\nHost: a\r\n\r\n"},
    {"bare LF", "GET /nope HTTP/1.1\nHost: a\n\n"},
    {"header without colon", "GET /nope HTTP/1.1\r\nNoColonHere\r\n\r\n"},
    {"space in header name", "GET /nope HTTP/1.1\r\nBad Header: x\r\n\r\n"},
    {"space before colon",
     "POST /nope HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}"},
    {"NUL in a header",
     std::string{"GET /nope HTTP/1.1\r\nX: a\0b\r\n\r\n", 32}},
    {"obsolete line folding", "GET /nope HTTP/1.1\r\nX: a\r\n b\r\n\r\n"},
    {"negative Content-Length",
     "POST /nope HTTP/1.1\r\nContent-Length: -1\r\n\r\n"},
    {"huge Content-Length", "POST /v1/products HTTP/1.1\r\nContent-Length: "
                            "99999999999999999999999\r\n\r\n"},
    {"Content-Length with plus",
     "POST /nope HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}"},
    {"two Content-Lengths (smuggling)",
     "POST /v1/products HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: "
     "6\r\n\r\nhello!"},
    {"Transfer-Encoding and Content-Length (smuggling)",
     "POST /nope HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: "
     "3\r\n\r\n0\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"},
    {"bad chunk size",
     "POST /nope HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n"},
    {"huge chunk size",
     "POST /v1/products HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + key
       + json_ct + "\r\nffffffffffffffffffff\r\nx\r\n"},
    {"unknown transfer coding",
     "POST /nope HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc"},
    {"oversized header",
     "GET /nope HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"},
    {"too many headers",
     [] {
       std::string r = "GET /nope HTTP/1.1\r\n";
       for (int i = 0; i < 3000; ++i)
         r += "X-" + std::to_string(i) + ": v\r\n";
       return r + "\r\n";
     }()},
    {"oversized target",
     "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"},
    {"absolute-form target", "GET http://evil.example/ HTTP/1.1\r\n\r\n"},
    {"percent-encoded NUL and dot-dot",
     "GET /v1/orders/%00/../../etc/passwd HTTP/1.1\r\n" + key + "\r\n"},
    {"TLS ClientHello on the HTTP port", tls_hello},
    {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
    {"unknown method", "BREW /v1/node HTTP/1.1\r\n" + key + "\r\n"},
    {"over-long bearer", "GET /v1/node HTTP/1.1\r\nAuthorization: Bearer "
                           + std::string(8000, 'k') + "\r\n\r\n"},
    {"JSON with invalid UTF-8",
     post("/v1/products", "{\"sku\":\"\xff\xfe\",\"name\":\"n\"}")},
    {"JSON nested 100,000 deep",
     post("/v1/products", std::string(100000, '['))},
    {"JSON NaN", post("/v1/products", R"({"sku":"a","price_minor":NaN})")},
    {"JSON number out of range",
     post("/v1/orders", R"({"items":[{"quantity":1e99999}]})")},
    {"JSON integer beyond 64 bits",
     post(
       "/v1/products",
       R"({"sku":"a","name":"n","price_minor":99999999999999999999999,"currency":"HUF","stock":1})")},
    {"JSON of the wrong types",
     post(
       "/v1/orders",
       R"({"customer":7,"items":"x","payment":[],"shipping":{"provider":5}})")},
    {"JSON shipping provider of the wrong type",
     post(
       "/v1/orders",
       R"({"customer":{"id":"c"},"items":[{"sku":"a","quantity":1}],"shipping":{"provider":5}})")},
    {"JSON truncated body", "POST /v1/products HTTP/1.1\r\nHost: a\r\n" + key
                              + json_ct
                              + "Content-Length: 50\r\n\r\n{\"sku\":"},
    {"JSON without a content type", "POST /v1/products HTTP/1.1\r\nHost: a\r\n"
                                      + key + "Content-Length: 2\r\n\r\n{}"},
    {"over-long Idempotency-Key",
     post(
       "/v1/products",
       R"({"sku":"a","name":"n","price_minor":1,"currency":"HUF","stock":1})",
       "Idempotency-Key: " + std::string(300, 'k') + "\r\n")},
    {"WebSocket upgrade without a key",
     "GET /v1/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
     "websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"},
    {"WebSocket upgrade without Sec-WebSocket-Key",
     "GET /v1/ws?token=test-key HTTP/1.1\r\nHost: a\r\nConnection: "
     "Upgrade\r\nUpgrade: websocket\r\n\r\n"},
    {"empty request", "\r\n\r\n"},
    {"control bytes", std::string{"\x01\x02\x03\x04\r\n\r\n", 8}},
  };
  REQUIRE(cases.size() >= 30);
  for (auto& [name, bytes] : cases) {
    INFO(name);
    probe p{s.port};
    p.send(bytes); // the node may close before it took everything
    auto o = p.read(6s);
    INFO(o.raw.substr(0, 300));
    // An answer is a 4xx; no answer means the node closed the connection.
    if (o.status != 0) {
      CHECK(o.status >= 400);
      CHECK(o.status < 500);
    } else {
      CHECK(o.closed);
    }
    REQUIRE(http_get(s.port, "/healthz").status == 200);
  }
  CHECK(s.db.scalar("SELECT count(*) FROM sagas") == "0");
  CHECK_FALSE(contains(metrics(s.port), "kassa_unhandled_errors_total{"));
}
