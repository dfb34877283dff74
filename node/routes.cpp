#include "node/routes.hpp"

#include <stdexcept>

#include <caf/message.hpp>
#include <caf/send.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/type_ids.hpp"
#include "node/order_routes.hpp"
#include "node/product_routes.hpp"
#include "node/request_checks.hpp"
#include "runtime/database_health.hpp"
#include "runtime/metrics.hpp"
#include "runtime/type_ids.hpp"

namespace kassa {

/// docs/openapi.yaml, compiled in (cmake/embed_migrations.cmake).
std::string_view openapi_document();

namespace {

/// Sends `msg` to the supervisor's child `name`, wherever it is now.
void tell(const route_context& ctx, const char* name, caf::message msg) {
  caf::anon_send(ctx.supervisor, atom::tell::value, std::string{name},
                 std::move(msg));
}

route_options public_route() {
  return route_options{false, false};
}

/// POST /v1/debug/faults {"fault": "..."} (debug.fault_switches only):
/// `handler_throw` throws from this handler (the pipeline's boundary answers
/// 500), anything else goes to ctx.inject_fault.
void add_fault_routes(router& r, const route_context& ctx) {
  r.add({"POST", "/v1/debug/faults", "debug.faults",
         route_options{true, true, false},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string fault;
           auto problem = check_object(body, {"fault"});
           if (!problem)
             problem = read_string(body, "fault", 64, fault);
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           if (fault == "handler_throw")
             throw std::runtime_error("fault switch: handler_throw");
           auto refusal = ctx.inject_fault(fault);
           if (!refusal.empty()) {
             out->respond(invalid_field("fault", refusal));
             return;
           }
           out->respond(json_response(202, R"({"injected":true})"));
         }});
}

} // namespace

router make_routes(const route_context& ctx) {
  router r;
  r.add({"GET", "/healthz", "healthz", public_route(),
         [](api_request&, responder_ptr out) {
           out->respond(json_response(200, R"({"status":"ok"})"));
         }});
  r.add({"GET", "/readyz", "readyz", public_route(),
         [ctx](api_request&, responder_ptr out) {
           if (ctx.database) {
             // The monitor checks the server every database.check_interval_ms
             // (and every connection reports a loss): no query per call.
             if (ctx.database->up())
               out->respond(json_response(200, R"({"status":"ready"})"));
             else
               out->respond(error_response(503, "not_ready",
                                           "database unreachable: "
                                             + ctx.database->last_reason()));
             return;
           }
           db_job job = [out](pg::connection& conn) {
             pg::result res;
             std::optional<pg::error> err;
             if (conn.ok())
               err = conn.exec("SELECT 1", {}, res);
             if (!conn.ok() || err)
               out->respond(error_response(
                 503, "not_ready",
                 "database unreachable"
                   + (err ? ": " + err->message : std::string{})));
             else
               out->respond(json_response(200, R"({"status":"ready"})"));
             return caf::message{};
           };
           ctx.db_pool.anon_send(atom::exec::value, std::move(job));
         }});
  r.add({"GET", "/metrics", "metrics", public_route(),
         [ctx](api_request&, responder_ptr out) {
           out->respond(api_response{
             200, "text/plain; version=0.0.4", ctx.metrics->render(), {}});
         }});
  r.add({"GET", "/openapi.yaml", "openapi", public_route(),
         [](api_request&, responder_ptr out) {
           out->respond(api_response{
             200, "application/yaml", std::string{openapi_document()}, {}});
         }});
  r.add({"GET", "/v1/node", "node.info", route_options{},
         [ctx](api_request&, responder_ptr out) {
           tell(ctx, "node",
                caf::make_message(atom::info::value, std::move(out)));
         }});
  add_product_routes(r, ctx);
  add_order_routes(r, ctx);
  add_provider_routes(r, ctx);
  add_event_routes(r, ctx);
  add_job_routes(r, ctx);
  add_webhook_routes(r, ctx);
  if (ctx.inject_fault)
    add_fault_routes(r, ctx);
  return r;
}

} // namespace kassa
