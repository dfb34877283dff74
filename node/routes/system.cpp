#include "node/routes/system.hpp"

#include <map>
#include <stdexcept>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/shard_leases.hpp"
#include "adapters/type_ids.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/database_health.hpp"
#include "runtime/metrics.hpp"
#include "runtime/shards.hpp"

namespace kassa {

/// docs/openapi.yaml, compiled in (cmake/embed_migrations.cmake).
std::string_view openapi_document();

namespace {

route_options public_route() {
  return route_options{false, false};
}

/// POST /v1/debug/faults {"fault": "..."} (debug.fault_switches only):
/// `handler_throw` throws from this handler (the pipeline's boundary answers
/// 500), anything else goes to ctx.inject_fault.
void add_fault_routes(router& r, const route_context& ctx) {
  route_options admin_only{true, true, false};
  admin_only.role = key_role::admin;
  r.add({"POST", "/v1/debug/faults", "debug.faults", admin_only,
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

/// GET /v1/cluster's body with `node` (who answers) and each node's `link`
/// as this node sees it: "self", its state over the middleman, or null
/// (no cluster link configured).
std::string with_links(const std::string& body, const std::string& self,
                       const cluster_links* links) {
  auto doc = nlohmann::json::parse(body);
  doc["node"] = self;
  auto snapshot
    = links ? links->snapshot() : std::map<std::string, cluster_links::link>{};
  for (auto& n : doc["nodes"]) {
    auto name = n.value("name", "");
    if (name == self) {
      n["link"] = {{"state", "self"}};
    } else if (auto i = snapshot.find(name); i != snapshot.end()) {
      n["link"] = {{"state", i->second.state},
                   {"address", i->second.address},
                   {"since", i->second.since},
                   {"failed_attempts", i->second.failed_attempts}};
    } else {
      n["link"] = nullptr;
    }
  }
  return doc.dump();
}

} // namespace

void add_system_routes(router& r, const route_context& ctx) {
  r.add({"GET", "/healthz", "healthz", public_route(),
         [](api_request&, responder_ptr out) {
           out->respond(json_response(200, R"({"status":"ok"})"));
         }});
  r.add({"GET", "/readyz", "readyz", public_route(),
         [ctx](api_request&, responder_ptr out) {
           if (ctx.database) {
             // The monitor checks the server every database.check_interval_ms
             // (and every connection reports a loss): no query per call.
             if (!ctx.database->up())
               out->respond(error_response(503, "not_ready",
                                           "database unreachable: "
                                             + ctx.database->last_reason()));
             else if (ctx.ownership && ctx.ownership->current()->held == 0)
               // Joining, fenced, or between a failover's expiry and take.
               out->respond(error_response(
                 503, "not_ready", "this node holds no shard at the moment"));
             else
               out->respond(json_response(200, R"({"status":"ready"})"));
             return;
           }
           db_job job = [out](pg::connection& conn) {
             if (auto err = conn.ping())
               out->respond(error_response(
                 503, "not_ready", "database unreachable: " + err->message));
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
           ctx.node.anon_send(atom::info::value, std::move(out));
         }});
  r.add({"GET", "/v1/cluster", "cluster", route_options{},
         [ctx](api_request&, responder_ptr out) {
           // From the database: it alone decides who holds what. Beside
           // each node, this node's link to it (the middleman's view).
           std::string self
             = ctx.ownership ? ctx.ownership->node() : std::string{};
           db_answer(ctx, std::move(out),
                     [lease = ctx.lease, links = ctx.links,
                      self](pg::connection& conn) {
                       std::string body;
                       if (auto why = pg::read_cluster(conn, lease, body))
                         return database_unavailable(*why);
                       return reply::done(with_links(body, self, links.get()));
                     });
         }});
  if (ctx.inject_fault)
    add_fault_routes(r, ctx);
}

} // namespace kassa
