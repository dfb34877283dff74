// The provider HTTP client against real sockets: TLS with a test CA (and
// refusal without it), an unknown outcome when a server takes the request
// and never answers, and nothing sent when the connection is refused.

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "adapters/http/client.hpp"
#include "support/node_process.hpp"
#include "support/test_certificate.hpp"

using namespace kassa;
using namespace kassa::test;
using namespace std::chrono_literals;

namespace {

http_outcome get(http_client_options o, std::string target = "/") {
  std::string error;
  auto client = http_client::make(std::move(o), error);
  INFO(error);
  REQUIRE(client);
  std::promise<http_outcome> p;
  auto f = p.get_future();
  http_call call;
  call.target = std::move(target);
  client->send(call, [&p](http_outcome out) {
    p.set_value(std::move(out));
  });
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  return f.get();
}

} // namespace

TEST_CASE("HTTPS: a server certificate is verified against the CA file",
          "[http_client]") {
  test_certificate tls;
  auto port = free_port();
  process server{{"s_server", "-accept", std::to_string(port), "-cert",
                  tls.cert(), "-key", tls.key(), "-www", "-quiet"},
                 {"PATH=/usr/bin:/bin"},
                 "/usr/bin/openssl"};
  for (int i = 0; i < 100 && !port_open(port); ++i)
    std::this_thread::sleep_for(50ms);
  REQUIRE(port_open(port));
  http_client_options o;
  o.base_url = "https://localhost:" + std::to_string(port);
  o.timeout = 5s;
  SECTION("trusted through ca_file: the exchange succeeds") {
    o.ca_file = tls.cert();
    auto out = get(o);
    INFO(out.error);
    CHECK(out.status == 200);
    CHECK(out.body.find("s_server") != std::string::npos);
  }
  SECTION("unknown CA: refused before anything is sent") {
    auto out = get(o);
    CHECK(out.status == 0);
    CHECK(out.error.rfind("tls handshake", 0) == 0);
    CHECK_FALSE(out.maybe_sent);
  }
  server.signal(SIGTERM);
}

TEST_CASE("a server that takes the request and never answers is an unknown "
          "outcome, a refused connection sent nothing",
          "[http_client]") {
  // Listening but never accepting: the kernel completes the handshake and
  // buffers the request, and no answer ever comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  REQUIRE(::listen(fd, 8) == 0);
  http_client_options o;
  o.base_url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.timeout = 300ms;
  auto out = get(o);
  CHECK(out.status == 0);
  CHECK(out.error == "read: timed out");
  CHECK(out.maybe_sent);
  ::close(fd);
  // Nobody listens there now.
  out = get(o);
  CHECK(out.status == 0);
  CHECK(out.error.rfind("connect", 0) == 0);
  CHECK_FALSE(out.maybe_sent);
  http_client_options bad;
  bad.base_url = "ftp://example.test";
  std::string error;
  CHECK_FALSE(http_client::make(bad, error));
  CHECK(error.find("invalid base URL") != std::string::npos);
}
