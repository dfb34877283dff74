// The real kassa process over real sockets against a real PostgreSQL.

#include <chrono>
#include <regex>
#include <signal.h>
#include <thread>

#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/node_process.hpp"
#include "support/test_database.hpp"

using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

/// A migrated database and a running node on a free port.
struct running_node {
  test_database db;
  uint16_t port = free_port();
  process node;

  explicit running_node(std::vector<std::string> extra_env = {})
    : node({"serve", "--http-port", std::to_string(port)},
           node_env(db.url(), std::move(extra_env))) {
    if (!node.wait_healthy(port))
      FAIL("node did not become healthy:\n" << node.output());
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("health and readiness", "[node]") {
  running_node n;
  auto health = http_get(n.port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"status":"ok"})");
  CHECK(health.header("content-type") == "application/json");
  CHECK_FALSE(health.header("x-request-id").empty());
  auto spec = http_get(n.port, "/openapi.yaml");
  CHECK(spec.status == 200);
  CHECK(contains(spec.body, "openapi: 3.0.3"));
  CHECK(contains(spec.body, "/v1/orders/{id}/cancel:"));
  auto ready = http_get(n.port, "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == R"({"status":"ready"})");
}

TEST_CASE("metrics are Prometheus text and count requests", "[node]") {
  running_node n;
  for (int i = 0; i < 3; ++i)
    REQUIRE(http_get(n.port, "/readyz").status == 200);
  REQUIRE(http_get(n.port, "/v1/node").status == 401);
  // A request is counted once its answer is written (the session's write
  // handler), which may run after the client has read the answer and sent
  // the next request: read until the last one is counted (or 5 s).
  auto counted = [](const std::string& text) {
    return contains(text, "kassa_http_requests_total{route=\"readyz\","
                          "status=\"200\"} 3\n")
           && contains(text, "kassa_http_requests_total{route=\"unauthorized\","
                             "status=\"401\"} 1\n");
  };
  auto m = http_get(n.port, "/metrics");
  for (int i = 0; i < 100 && !counted(m.body); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    m = http_get(n.port, "/metrics");
  }
  REQUIRE(m.status == 200);
  CHECK(contains(m.header("content-type"), "text/plain"));
  auto& t = m.body;
  CHECK(contains(t, "# TYPE kassa_http_requests_total counter\n"));
  CHECK(contains(t, "kassa_http_requests_total{route=\"readyz\","
                    "status=\"200\"} 3\n"));
  CHECK(contains(t, "kassa_http_requests_total{route=\"unauthorized\","
                    "status=\"401\"} 1\n"));
  CHECK(contains(t, "# TYPE kassa_http_request_duration_seconds histogram\n"));
  CHECK(contains(t, "kassa_http_request_duration_seconds_count{route=\""
                    "readyz\"} 3\n"));
  CHECK(contains(t, "kassa_http_request_duration_seconds_bucket{route=\""
                    "readyz\",le=\"+Inf\"} 3\n"));
  CHECK(contains(t, "kassa_db_pool_connections 4\n"));
  CHECK(contains(t, "# TYPE kassa_db_pool_in_use gauge\n"));
  CHECK(contains(t, "kassa_actor_restarts_total{supervisor=\"root\","
                    "child=\"db_pool\"} 0\n"));
  // Every sample line is `name{labels} value` or `name value`.
  std::regex sample{R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eInf]+$)"};
  size_t pos = 0;
  int samples = 0;
  while (pos < t.size()) {
    auto end = t.find('\n', pos);
    auto line = t.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#')
      continue;
    INFO(line);
    CHECK(std::regex_match(line, sample));
    ++samples;
  }
  CHECK(samples > 10);
}

TEST_CASE("v1 needs the API key, errors are JSON", "[node]") {
  running_node n;
  auto no_key = http_get(n.port, "/v1/node");
  CHECK(no_key.status == 401);
  CHECK(contains(no_key.body, R"("code":"unauthorized")"));
  CHECK(no_key.header("www-authenticate") == "Bearer");
  auto bad_key
    = http_get(n.port, "/v1/node", {{"Authorization", "Bearer nope"}});
  CHECK(bad_key.status == 401);
  auto ok = http_get(n.port, "/v1/node", with_key());
  CHECK(ok.status == 200);
  CHECK(contains(ok.body, R"("version":"0.1.0")"));
  auto missing = http_get(n.port, "/v1/nothing-here", with_key());
  CHECK(missing.status == 404);
  CHECK(contains(missing.body, R"({"error":{"code":"not_found")"));
  auto wrong_method = http_request(n.port, "DELETE", "/v1/node", with_key());
  CHECK(wrong_method.status == 405);
  CHECK(contains(wrong_method.body, R"("code":"method_not_allowed")"));
  CHECK(wrong_method.header("allow") == "GET");
  CHECK(http_get(n.port, "/nowhere").status == 404);
}

TEST_CASE("an oversized body gets 413 and the node keeps serving", "[node]") {
  running_node n{{"KASSA_HTTP_BODY_LIMIT_BYTES=4096"}};
  auto big = std::string(100 * 1024, 'x');
  auto r = http_request(n.port, "POST", "/v1/node",
                        with_key({{"Content-Type", "application/json"}}), big);
  CHECK(r.status == 413);
  CHECK(contains(r.body, R"("code":"payload_too_large")"));
  CHECK(http_get(n.port, "/healthz").status == 200);
}

TEST_CASE("malformed HTTP gets 400 and the node keeps serving", "[node]") {
  running_node n;
  raw_connection conn{n.port};
  conn.send("GARBAGE\x01\x02 / HTTP/9.9\r\n\r\n");
  auto r = conn.read_reply();
  CHECK(r.status == 400);
  CHECK(contains(r.body, R"("code":"bad_request")"));
  CHECK(http_get(n.port, "/healthz").status == 200);
}

TEST_CASE("keep-alive serves several requests on one connection", "[node]") {
  running_node n;
  raw_connection conn{n.port};
  for (int i = 0; i < 5; ++i) {
    REQUIRE(conn.send("GET /v1/node HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer test-key\r\n\r\n"));
    auto r = conn.read_reply();
    CHECK(r.status == 200);
  }
  REQUIRE(conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n"));
  CHECK(conn.read_reply().status == 200);
  CHECK(conn.closed_by_peer());
}

TEST_CASE("SIGTERM stops the node cleanly with exit code 0", "[node]") {
  running_node n;
  // A keep-alive connection that stays idle must not hold the shutdown up. It
  // serves one request first: a connection still in the listen backlog (not
  // yet accepted) would be reset, not closed, when the process exits.
  raw_connection idle{n.port};
  REQUIRE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(idle.read_reply().status == 200);
  n.node.signal(SIGTERM);
  auto code = n.node.wait_exit(15s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  auto out = n.node.output();
  CHECK(contains(out, R"("message":"signal received","signal":"SIGTERM")"));
  CHECK(contains(out, R"("message":"stopped")"));
  CHECK(idle.closed_by_peer());
}

TEST_CASE("log lines are JSON with time, level, component and message",
          "[node]") {
  running_node n;
  n.node.signal(SIGTERM);
  REQUIRE(n.node.wait_exit(15s) == 0);
  std::regex line_shape{
    R"re(^\{"time":"[0-9T:.\-]+Z","level":"(debug|info|warn|error)","component":"[a-z_]+","message":"[^"]*".*\}$)re"};
  auto out = n.node.output();
  size_t pos = 0;
  int lines = 0;
  while (pos < out.size()) {
    auto end = out.find('\n', pos);
    auto line = out.substr(pos, end - pos);
    pos = end == std::string::npos ? out.size() : end + 1;
    if (line.empty())
      continue;
    INFO(line);
    CHECK(std::regex_match(line, line_shape));
    ++lines;
  }
  CHECK(lines >= 3);
}

TEST_CASE("a bad config exits non-zero naming the key", "[node][config]") {
  test_database db;
  SECTION("bad value from the environment") {
    process p({"serve"}, node_env(db.url(), {"KASSA_HTTP_PORT=99999"}));
    auto code = p.wait_exit();
    REQUIRE(code.has_value());
    CHECK(*code == 2);
    CHECK(contains(p.output(), "http.port"));
  }
  SECTION("unknown key in a config file") {
    auto path = "/tmp/kassa-bad-config-" + std::to_string(::getpid()) + ".json";
    FILE* f = fopen(path.c_str(), "w");
    fputs(R"({"http": {"portt": 1}})", f);
    fclose(f);
    process p({"serve", "--config", path}, node_env(db.url()));
    CHECK(p.wait_exit() == 2);
    CHECK(contains(p.output(), "http.portt"));
    ::unlink(path.c_str());
  }
  SECTION("bad flag value") {
    process p({"serve", "--http-port", "port"}, node_env(db.url()));
    CHECK(p.wait_exit() == 2);
    CHECK(contains(p.output(), "http.port"));
  }
  SECTION("unknown KASSA_ variable") {
    process p({"serve"}, node_env(db.url(), {"KASSA_DATABSE_URL=x"}));
    CHECK(p.wait_exit() == 2);
    CHECK(contains(p.output(), "KASSA_DATABSE_URL"));
  }
}

TEST_CASE("an unreachable database stops the start with a reason", "[node]") {
  auto port = free_port(); // nothing listens there
  process p({"serve", "--http-port", std::to_string(free_port())},
            node_env("postgresql://kassa@127.0.0.1:" + std::to_string(port)
                     + "/kassa"));
  auto code = p.wait_exit();
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(contains(p.output(), "database unreachable"));
}

TEST_CASE("migrations apply once, also when run twice or concurrently",
          "[migrate]") {
  test_database db;
  {
    process first({"migrate"}, node_env(db.url()));
    REQUIRE(first.wait_exit() == 0);
    CHECK(contains(first.output(), "applied migration"));
  }
  auto count = db.scalar("SELECT count(*) FROM schema_migrations");
  CHECK(std::stoi(count) >= 1);
  CHECK(db.scalar("SELECT to_regclass('processed_messages')::text")
        == "processed_messages");
  {
    process second({"migrate"}, node_env(db.url()));
    REQUIRE(second.wait_exit() == 0);
    CHECK_FALSE(contains(second.output(), "applied migration"));
  }
  CHECK(db.scalar("SELECT count(*) FROM schema_migrations") == count);
  // Two at once on a fresh database: the advisory lock serialises them.
  test_database fresh;
  process a({"migrate"}, node_env(fresh.url()));
  process b({"migrate"}, node_env(fresh.url()));
  CHECK(a.wait_exit() == 0);
  CHECK(b.wait_exit() == 0);
  CHECK(fresh.scalar("SELECT count(*) FROM schema_migrations") == count);
  // A tampered checksum is refused.
  fresh.scalar("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1");
  process c({"migrate"}, node_env(fresh.url()));
  CHECK(c.wait_exit() == 1);
  CHECK(contains(c.output(), "changed after it was applied"));
}
