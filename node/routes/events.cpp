#include "node/routes/events.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "adapters/http/customer_token.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

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
             return reply::done(std::move(body));
           });
         }});
}

} // namespace kassa
