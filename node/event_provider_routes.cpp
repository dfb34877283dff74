#include <chrono>
#include <ctime>
#include <map>
#include <openssl/rand.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga_logic.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/job_store.hpp"
#include "adapters/postgres/journal.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/type_ids.hpp"
#include "node/order_routes.hpp"
#include "node/request_checks.hpp"
#include "runtime/customer_token.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

/// Runs `work` on a pool connection and answers `out` with its result.
void db_answer(const route_context& ctx, responder_ptr out,
               std::function<api_response(pg::connection&)> work) {
  submit_db_answer(ctx.db_pool, std::move(out), std::move(work));
}

std::string ts(const char* column) {
  return pg::rfc3339_sql(column);
}

} // namespace

void add_event_routes(router& r, const route_context& ctx) {
  r.add(
    {"POST",
     "/v1/customer_tokens",
     "customer_tokens.create",
     {true, true, false}, // signed, not stored
     [secret = ctx.customer_token_secret](api_request& req, responder_ptr out) {
       if (secret.empty()) {
         out->respond(error_response(
           409, "customer_tokens_disabled",
           "set ws.customer_token_secret to issue customer tokens"));
         return;
       }
       auto& body = req.body_json();
       std::string customer;
       int64_t ttl = 3600;
       auto problem = check_object(body, {"customer_id", "ttl_seconds"});
       if (!problem)
         problem = read_string(body, "customer_id", 128, customer);
       if (!problem && body.contains("ttl_seconds"))
         problem = read_integer(body, "ttl_seconds", 1, 30 * 86400, ttl);
       if (!problem && !valid_topic("customer:" + customer))
         problem = invalid_field("customer_id", "no spaces or quotes");
       if (problem) {
         out->respond(std::move(*problem));
         return;
       }
       auto expires = static_cast<int64_t>(std::time(nullptr)) + ttl;
       out->respond(json_response(
         201, json{{"token", make_customer_token(secret, customer, expires)},
                   {"customer_id", customer},
                   {"topic", "customer:" + customer},
                   {"expires_at", expires}}
                .dump()));
     }});
  r.add({"GET",
         "/v1/events",
         "events.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           int64_t after = 0;
           int64_t limit = 100;
           if (auto bad = read_page(req, 1000, after, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           std::vector<std::string> topics;
           if (auto topic = req.query_param("topic"); !topic.empty()) {
             if (!valid_topic(topic)) {
               out->respond(invalid_field("topic", "unknown topic " + topic));
               return;
             }
             topics.push_back(topic);
           }
           db_answer(ctx, std::move(out), [=](pg::connection& conn) {
             std::vector<published_event> events;
             if (auto err = read_events(conn, after, 0, topics, limit, events);
                 !err.empty())
               return pg::database_failure(err);
             std::string body = "{\"events\":[";
             for (size_t i = 0; i < events.size(); ++i)
               body += (i ? "," : "") + event_frame(events[i]);
             body
               += "],\"next\":"
                  + std::to_string(events.empty() ? after : events.back().seq)
                  + "}";
             return json_response(200, body);
           });
         }});
}

// -- durable jobs -------------------------------------------------------------

void add_job_routes(router& r, const route_context& ctx) {
  r.add({"GET",
         "/v1/jobs",
         "jobs.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           int64_t after = 0;
           int64_t limit = 100;
           if (auto bad = read_page(req, 1000, after, limit)) {
             out->respond(std::move(*bad));
             return;
           }
           auto status = std::string{req.query_param("status")};
           if (!status.empty() && status != "pending" && status != "running"
               && status != "done" && status != "dead") {
             out->respond(invalid_field(
               "status", "must be one of pending, running, done, dead"));
             return;
           }
           db_answer(
             ctx, std::move(out), [status, after, limit](pg::connection& conn) {
               json body;
               if (auto err = list_jobs(conn, status, after, limit, body);
                   !err.empty())
                 return pg::database_failure(err);
               return json_response(200, body.dump());
             });
         }});
}

// -- sandbox providers ------------------------------------------------------

namespace {

std::vector<std::string> sandbox_names() {
  return {sandbox_name(provider_kind::payment),
          sandbox_name(provider_kind::invoicing),
          sandbox_name(provider_kind::shipping),
          sandbox_name(provider_kind::messaging)};
}

/// 404 for a name that is no sandbox provider connection.
std::optional<api_response> unknown_provider(const std::string& name) {
  auto names = sandbox_names();
  if (std::find(names.begin(), names.end(), name) != names.end())
    return std::nullopt;
  return error_response(404, "provider_not_found",
                        "no sandbox provider " + name);
}

} // namespace

void add_provider_routes(router& r, const route_context& ctx) {
  r.add({"GET",
         "/v1/providers",
         "providers.list",
         {},
         [ctx](api_request&, responder_ptr out) {
           // A short-lived actor gathers every connection's answer.
           ctx.sys->spawn(
             [](caf::event_based_actor* self, caf::actor root,
                std::vector<std::string> names, responder_ptr out) {
               auto results
                 = std::make_shared<std::vector<std::string>>(names.size());
               auto pending = std::make_shared<size_t>(names.size());
               for (size_t i = 0; i < names.size(); ++i)
                 self
                   ->request(root, std::chrono::seconds(5), atom::ask::value,
                             names[i], caf::make_message(atom::info::value))
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
                         out->respond(error_response(
                           503, "provider_unavailable",
                           "a provider connection did not answer"));
                       }
                     });
             },
             ctx.supervisor, ctx.providers, std::move(out));
         }});
  r.add(
    {"POST",
     "/v1/providers/{name}/chaos",
     "providers.chaos",
     {true, true},
     [ctx](api_request& req, responder_ptr out) {
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
       caf::anon_send(
         ctx.supervisor, atom::tell::value, name,
         caf::make_message(atom::chaos::value, chaos, std::move(out)));
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
             pg::result res;
             if (auto err = conn.exec(
                   "SELECT op, ref, order_id, amount_minor, " + ts("at")
                     + " FROM sandbox_ledger WHERE provider = $1 AND ($2 = '' "
                       "OR order_id = $2) ORDER BY id",
                   {name, order}, res))
               return pg::database_failure(err->message);
             json effects = json::array();
             for (int i = 0; i < res.rows(); ++i)
               effects.push_back(
                 {{"op", res.value(i, 0)},
                  {"ref", res.value(i, 1)},
                  {"order_id", res.value(i, 2)},
                  {"amount_minor", std::stoll(std::string{res.value(i, 3)})},
                  {"at", res.value(i, 4)}});
             return json_response(200, json{{"effects", effects}}.dump());
           });
         }});
}

} // namespace kassa
