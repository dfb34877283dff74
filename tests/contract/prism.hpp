#pragma once

// What the contract tests share: a Prism mock server of one spec in
// specs/, an exchange with it, the check that a request was valid, a call
// of a test order and a run of an adapter's whole operation.

#include <csignal>
#include <cstdlib>
#include <future>
#include <thread>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/client.hpp"
#include "node/system.hpp"
#include "support/node_process.hpp"

namespace kassa::test {

using namespace std::chrono_literals;

/// One Prism mock server for the life of the test process.
struct prism_server {
  uint16_t port = free_port();
  std::unique_ptr<process> proc;

  explicit prism_server(const std::string& spec) {
    const char* bin = std::getenv("PRISM_BIN");
    if (!bin || !*bin)
      FAIL("PRISM_BIN is not set: run the contract tests through "
           "scripts/test, which installs Prism into tests/contract");
    const char* path = std::getenv("PATH");
    const char* home = std::getenv("HOME");
    proc = std::make_unique<process>(
      std::vector<std::string>{
        "mock", "-h", "127.0.0.1", "-p", std::to_string(port), "--errors",
        std::string{KASSA_SOURCE_DIR} + "/tests/contract/specs/" + spec},
      std::vector<std::string>{std::string{"PATH="} + (path ? path : ""),
                               std::string{"HOME="} + (home ? home : "/tmp")},
      bin);
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!port_open(port)) {
      if (std::chrono::steady_clock::now() > deadline)
        FAIL("Prism did not start:\n" << proc->output());
      std::this_thread::sleep_for(100ms);
    }
  }

  ~prism_server() {
    proc->signal(SIGTERM);
    proc->wait_exit(10s);
  }

  std::shared_ptr<http_client> client(header_pairs extra = {}) {
    http_client_options o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port);
    o.timeout = 20s;
    o.default_headers = std::move(extra);
    std::string error;
    auto c = http_client::make(o, error);
    REQUIRE(c);
    return c;
  }
};

inline http_outcome exchange(http_client& c, http_call call) {
  std::promise<http_outcome> p;
  auto f = p.get_future();
  c.send(std::move(call), [&p](http_outcome out) {
    p.set_value(std::move(out));
  });
  REQUIRE(f.wait_for(30s) == std::future_status::ready);
  return f.get();
}

/// Sent and accepted as valid by the spec.
inline void check_valid(const http_outcome& out) {
  INFO("status " << out.status << " error " << out.error << " violations "
                 << out.header("sl-violations"));
  CHECK(out.status >= 200);
  CHECK(out.status < 300);
  CHECK(out.header("sl-violations").empty());
}

inline provider_call order_call(std::string op) {
  provider_call c;
  c.message_id = "ord_c1:" + op + ":1";
  c.idempotency_key = "ord_c1:" + op;
  c.op = std::move(op);
  c.order_id = "ord_c1";
  c.amount_minor = 1250000;
  c.currency = "HUF";
  c.token = "pm_card_visa";
  c.ref = "pi_3Nk";
  c.detail = "c1@example.test";
  return c;
}

/// Runs an adapter's whole operation with a scoped actor as the saga.
template <class Perform>
provider_result perform(Perform run, provider_call call) {
  caf::actor_system_config cfg;
  register_kassa_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  call.reply_to = caf::actor_cast<provider_result_sink>(self);
  run(std::move(call));
  provider_result result;
  self->receive(
    [&](const provider_result& r) {
      result = r;
    },
    caf::after(30s) >>
      [] {
        FAIL("no answer from the adapter");
      });
  return result;
}

} // namespace kassa::test
