// libFuzzer target: one HTTP request as it arrives on a socket, through
// Beast's parser (the server's limits), authentication, routing and each
// route's decoding of its JSON body into the domain request types — the
// node's real routing table, with no database and no actors behind it
// (messages to the absent supervisor go nowhere). A handler that throws
// (the pipeline answers 500) is a crash here: decoding must not throw.

#include <cstdlib>
#include <memory>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "adapters/http/api_pipeline.hpp"
#include "adapters/http/beast_request.hpp"
#include "node/routes/routes.hpp"
#include "node/system.hpp"
#include "runtime/metrics.hpp"

namespace {

using namespace kassa;
namespace http = boost::beast::http;

struct recorder : responder {
  int status = 0;
  void respond(api_response r) override {
    status = r.status;
  }
};

/// Built once: an actor system (GET /v1/providers spawns a gatherer) and
/// the routes with every feature on.
struct harness {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  metrics_registry metrics;
  std::unique_ptr<api_pipeline> pipeline;

  harness() {
    register_kassa_types(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.set("scheduler.max-threads", size_t{1});
    sys = std::make_unique<caf::actor_system>(cfg);
    route_context ctx;
    ctx.metrics = &metrics;
    ctx.sys = sys.get();
    ctx.customer_token_secret = "fuzz-secret";
    // Handles to no actor: a request to one fails (GET /v1/providers
    // answers 503), a chaos setting goes nowhere.
    for (auto name : {"sandbox-payment", "sandbox-invoicing",
                      "sandbox-shipping", "sandbox-messaging"})
      ctx.providers.emplace_back(name, child_handle<provider_control_actor>{});
    ctx.payment_processors = {"sandbox", "stripe", "adyen", "auto"};
    ctx.stripe_webhook_secret = "whsec_fuzz";
    ctx.inject_fault = [](const std::string&) {
      return std::string{"faults are not injected while fuzzing"};
    };
    pipeline = std::make_unique<api_pipeline>(
      make_routes(ctx),
      std::make_shared<key_registry>(std::vector<std::string>{"k"}));
  }
};

/// Never destroyed: CAF's own statics may be gone by the time exit handlers
/// would tear the system down.
harness& the_harness() {
  static auto* h = new harness;
  return *h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = the_harness();
  http::request_parser<http::string_body> parser;
  parser.header_limit(request_header_limit);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  auto text = reinterpret_cast<const char*>(data);
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    auto n = parser.put(boost::asio::buffer(text + used, size - used), ec);
    if (ec == http::error::need_more)
      break;
    if (ec)
      return 0; // the server answers 400 (or 413) and closes
    if (n == 0)
      break;
    used += n;
  }
  if (!parser.is_done()) {
    if (!parser.got_some())
      return 0; // the connection closed before a byte: nothing to answer
    parser.put_eof(ec);
    if (ec || !parser.is_done())
      return 0;
  }
  auto req = to_api_request(parser.get());
  req.request_id = "fuzz";
  auto out = std::make_shared<recorder>();
  h.pipeline->dispatch(std::move(req), out);
  if (out->status == 500)
    std::abort(); // a handler threw while decoding
  return 0;
}
