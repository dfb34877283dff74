#include "node/routes/providers.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/type_ids.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

std::vector<std::string> sandbox_names() {
  std::vector<std::string> names{sandbox_name(provider_kind::payment),
                                 sandbox_name(provider_kind::invoicing),
                                 sandbox_name(provider_kind::shipping),
                                 sandbox_name(provider_kind::messaging)};
  for (auto& name : sandbox_channel_names())
    names.push_back(name);
  return names;
}

/// `provider_not_found` for a name that is no sandbox provider connection.
std::optional<api_response> unknown_provider(const std::string& name) {
  auto names = sandbox_names();
  if (std::find(names.begin(), names.end(), name) != names.end())
    return std::nullopt;
  return to_response(reply::fail(failure_code::provider_not_found,
                                 "no sandbox provider " + name));
}

} // namespace

void add_provider_routes(router& r, const route_context& ctx) {
  r.add(
    {"GET",
     "/v1/providers",
     "providers.list",
     {},
     [ctx](api_request&, responder_ptr out) {
       // A short-lived actor gathers every connection's answer.
       ctx.sys->spawn(
         [](
           caf::event_based_actor* self,
           const std::vector<
             std::pair<std::string, child_handle<provider_control_actor>>>& all,
           responder_ptr out) {
           auto results
             = std::make_shared<std::vector<std::string>>(all.size());
           auto pending = std::make_shared<size_t>(all.size());
           for (size_t i = 0; i < all.size(); ++i)
             all[i]
               .second.request(self, std::chrono::seconds(5), atom::info::value)
               .then(
                 [=](const std::string& info) {
                   (*results)[i] = info;
                   if (--*pending == 0) {
                     std::string body = "{\"providers\":[";
                     for (size_t k = 0; k < results->size(); ++k)
                       body += (k ? "," : "") + (*results)[k];
                     out->respond(json_response(200, body + "]}"));
                   }
                 },
                 [=](caf::error&) {
                   if (*pending != 0) {
                     *pending = 0;
                     out->respond(
                       error_response(503, "provider_unavailable",
                                      "a provider connection did not answer"));
                   }
                 });
         },
         ctx.providers, std::move(out));
     }});
  r.add(
    {"POST", "/v1/providers/{name}/chaos", "providers.chaos",
     operator_action(true), [ctx](api_request& req, responder_ptr out) {
       auto name = std::string{req.param("name")};
       if (auto missing = unknown_provider(name)) {
         out->respond(std::move(*missing));
         return;
       }
       auto& body = req.body_json();
       if (auto p
           = check_object(body, {"failure_rate", "latency_ms", "outage"})) {
         out->respond(std::move(*p));
         return;
       }
       chaos_settings chaos;
       if (body.contains("failure_rate")) {
         auto& f = body["failure_rate"];
         if (!f.is_number() || f.get<double>() < 0 || f.get<double>() > 1) {
           out->respond(
             invalid_field("failure_rate", "must be a number from 0 to 1"));
           return;
         }
         chaos.failure_rate = f.get<double>();
       }
       if (body.contains("latency_ms")
           && read_integer(body, "latency_ms", 0, 60000, chaos.latency_ms)) {
         out->respond(invalid_field("latency_ms", "must be 0 to 60000"));
         return;
       }
       if (body.contains("outage")) {
         if (!body["outage"].is_boolean()) {
           out->respond(invalid_field("outage", "must be a boolean"));
           return;
         }
         chaos.outage = body["outage"].get<bool>();
       }
       for (auto& [provider, handle] : ctx.providers)
         if (provider == name)
           handle.anon_send(atom::chaos::value, chaos,
                            reply_via(std::move(out)));
     }});
  r.add({"GET",
         "/v1/providers/{name}/ledger",
         "providers.ledger",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto name = std::string{req.param("name")};
           if (auto missing = unknown_provider(name)) {
             out->respond(std::move(*missing));
             return;
           }
           auto order = req.query_param("order_id");
           db_answer(ctx, std::move(out), [name, order](pg::connection& conn) {
             return read_sandbox_ledger(conn, name, order);
           });
         }});
}

} // namespace kassa
