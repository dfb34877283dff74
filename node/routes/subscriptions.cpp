#include "node/routes/subscriptions.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "actors/notification.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/plan_queries.hpp"
#include "adapters/postgres/subscription_queries.hpp"
#include "node/routes/customer_scope.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/clock.hpp"
#include "runtime/random_bits.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

/// What POST /v1/subscriptions asks for, checked.
struct subscription_request {
  std::string customer;
  std::string email;
  std::string plan;
  int64_t plan_version = 0;
  std::string token;
  std::string processor;
};

std::optional<api_response> read_request(const route_context& ctx,
                                         const json& body,
                                         subscription_request& out) {
  if (auto problem
      = check_object(body, {"customer", "plan", "plan_version", "payment"}))
    return problem;
  if (body.contains("customer") && body["customer"].is_object()) {
    auto& c = body["customer"];
    if (auto problem = check_object(c, {"id", "email"}))
      return problem;
    if (auto problem = read_string(c, "id", 128, out.customer))
      return invalid_field("customer.id", "a customer id of 1-128 characters");
    if (c.contains("email")
        && (!c["email"].is_string() || c["email"].get<std::string>().empty()
            || c["email"].get<std::string>().size() > 254))
      return invalid_field("customer.email", "an e-mail address");
    if (c.contains("email"))
      out.email = c["email"].get<std::string>();
  } else if (auto problem = read_string(body, "customer", 128, out.customer)) {
    return invalid_field("customer", "a customer id of 1-128 characters, or "
                                     "{\"id\",\"email\"}");
  }
  // The customer's events go to `customer:<id>`: a name a topic can have.
  if (!valid_topic("customer:" + out.customer))
    return invalid_field(body["customer"].is_object() ? "customer.id"
                                                      : "customer",
                         "no spaces or quotes");
  if (auto problem = read_string(body, "plan", 64, out.plan))
    return problem;
  if (body.contains("plan_version"))
    if (auto problem
        = read_integer(body, "plan_version", 1, 1'000'000, out.plan_version))
      return problem;
  if (!body.contains("payment") || !body["payment"].is_object())
    return invalid_field("payment", "required: {\"token\", \"provider\"?}");
  auto& p = body["payment"];
  if (auto problem = check_object(p, {"token", "provider"}))
    return problem;
  if (read_string(p, "token", 255, out.token))
    return invalid_field("payment.token", "a payment token of 1-255 "
                                          "characters (a stored payment "
                                          "method at the processor)");
  out.processor
    = ctx.payment_provider == "auto" ? "sandbox" : ctx.payment_provider;
  if (p.contains("provider")) {
    if (!p["provider"].is_string())
      return invalid_field("payment.provider", "a payment processor's name");
    out.processor = p["provider"].get<std::string>();
  }
  auto& known = ctx.payment_processors;
  if (out.processor == "auto"
      || std::find(known.begin(), known.end(), out.processor) == known.end())
    return invalid_field("payment.provider",
                         "not a payment processor of this node (subscriptions "
                         "name one; `auto` routing is for orders)");
  return std::nullopt;
}

/// A new subscription id in a shard this node holds (its actor runs here);
/// empty when the node holds none.
std::string new_subscription_id(const shard_ownership* ownership) {
  thread_local random_bits bits;
  auto held = ownership ? ownership->current() : nullptr;
  if (held && held->held_shards().empty())
    return {};
  std::string id;
  do {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "sub_%016llx",
                  static_cast<unsigned long long>(bits.next()));
    id = buf;
  } while (held && !held->holds(shard_of(id, ownership->shard_count())));
  return id;
}

/// Completes a command from the database before it is sent (a plan change
/// reads its plan): `done`, or the failure to answer instead.
using command_prep
  = std::function<reply(pg::connection&, subscription_command&)>;

/// Sends `command` to subscription `id`'s actor (started unless it runs)
/// once its row is found (an unknown id starts nothing).
void send_command(const route_context& ctx, const std::string& id,
                  subscription_command command, responder_ptr out,
                  command_prep prep = {}) {
  if (!ctx.subscriptions.supervisor || !ctx.subscriptions.starter) {
    out->respond(to_response(
      reply::fail(failure_code::internal, "no subscriptions on this node")));
    return;
  }
  auto subscriptions = ctx.subscriptions;
  auto ownership = ctx.ownership;
  submit_db_work(ctx.db_pool, [=, out = reply_via(std::move(out))](
                                pg::connection& conn) mutable {
    auto exists = pg::subscription_exists(conn, id);
    if (exists.failed())
      return out->send(std::move(exists));
    if (prep)
      if (auto prepared = prep(conn, command); prepared.failed())
        return out->send(std::move(prepared));
    if (ownership && !ownership->holds(id))
      return out->send(reply::fail(failure_code::not_owner,
                                   "subscription " + id
                                     + " runs on another node (or its shard is "
                                       "changing hands): retry in a moment"));
    subscriptions.supervisor.anon_send(
      atom::tell::value, (*subscriptions.starter)(id),
      caf::make_message(atom::update::value, std::move(command),
                        std::move(out)));
  });
}

billing_time now_of(const route_context& ctx) {
  return std::chrono::time_point_cast<std::chrono::seconds>(ctx.clock->now());
}

} // namespace

void add_subscription_routes(router& r, const route_context& ctx) {
  if (!ctx.clock)
    return;
  r.add(
    {"POST",
     "/v1/subscriptions",
     "subscriptions.create",
     {true, true},
     [ctx](api_request& req, responder_ptr out) {
       subscription_request sr;
       idempotency idem;
       auto problem = read_request(ctx, req.body_json(), sr);
       if (!problem)
         problem = read_idempotency(req, "subscriptions.create", idem);
       if (problem) {
         out->respond(std::move(*problem));
         return;
       }
       auto id = new_subscription_id(ctx.ownership.get());
       if (id.empty()) {
         out->respond(to_response(reply::fail(failure_code::not_owner,
                                              "this node holds no shard yet")));
         return;
       }
       std::optional<std::string> shard;
       if (ctx.ownership)
         shard = std::to_string(shard_of(id, ctx.ownership->shard_count()));
       auto now = now_of(ctx);
       auto clock = ctx.clock;
       auto invoicing = ctx.invoicing_provider;
       db_answer(ctx, std::move(out), [=](pg::connection& conn) {
         return pg::run_idempotent(conn, idem, [&](pg::connection& c) {
           plan p;
           auto found = pg::find_plan(
             c, sr.plan, static_cast<uint32_t>(sr.plan_version), p);
           if (found.failed())
             return found;
           subscription_terms t;
           t.id = id;
           t.customer = sr.customer;
           t.email = sr.email;
           t.terms = p;
           t.token = sr.token;
           t.processor = sr.processor;
           t.invoicing = invoicing;
           t.created = now;
           t.anchor = now + std::chrono::days{p.trial_days};
           auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
                          t.anchor - now)
                          .count();
           return pg::create_subscription(c, t,
                                          subscription_job(id, 0, 1, delay),
                                          clock->now_ms() + delay, shard, now);
         });
       });
     }});
  r.add(
    {"GET", "/v1/subscriptions", "subscriptions.list", member_route(false),
     [ctx](api_request& req, responder_ptr out) {
       int64_t limit = 100;
       if (auto problem = read_query_integer(req, "limit", 1, 500, limit)) {
         out->respond(std::move(*problem));
         return;
       }
       auto customer = std::string{req.query_param("customer")};
       if (narrow_to_own(req, customer, out))
         return; // another customer's: 403
       auto status = std::string{req.query_param("status")};
       if (!status.empty() && !parse_subscription_status(status)) {
         out->respond(
           invalid_field("status", "one of trialing, active, past_due, paused, "
                                   "canceled, unpaid"));
         return;
       }
       auto after = std::string{req.query_param("after")};
       db_answer(ctx, std::move(out), [=](pg::connection& conn) {
         return pg::list_subscriptions(conn, customer, status, after, limit);
       });
     }});
  r.add({"GET", "/v1/subscriptions/{id}", "subscriptions.get",
         member_route(false), [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           auto now = now_of(ctx);
           out = owned_only(token_customer(req), "/customer",
                            "subscription_not_found", "no subscription " + id,
                            std::move(out));
           db_answer(ctx, std::move(out), [id, now](pg::connection& conn) {
             return pg::get_subscription(conn, id, now);
           });
         }});
  using kind = subscription_command::kind_t;
  for (auto [verb, k] :
       {std::pair{"pause", kind::pause}, std::pair{"resume", kind::resume}}) {
    r.add({"POST",
           std::string{"/v1/subscriptions/{id}/"} + verb,
           std::string{"subscriptions."} + verb,
           {true, false},
           [ctx, k = k](api_request& req, responder_ptr out) {
             subscription_command cmd;
             cmd.kind = k;
             send_command(ctx, std::string{req.param("id")}, cmd,
                          std::move(out));
           }});
  }
  r.add(
    {"POST", "/v1/subscriptions/{id}/cancel", "subscriptions.cancel",
     member_command(), [ctx](api_request& req, responder_ptr out) {
       subscription_command cmd;
       cmd.kind = kind::cancel;
       if (!req.body.empty()) {
         auto body = json::parse(req.body, nullptr, false);
         if (auto problem = check_object(body, {"at_period_end", "refund"})) {
           out->respond(std::move(*problem));
           return;
         }
         if (body.contains("at_period_end")) {
           if (!body["at_period_end"].is_boolean()) {
             out->respond(invalid_field("at_period_end", "true or false"));
             return;
           }
           cmd.at_period_end = body["at_period_end"].get<bool>();
         }
         if (body.contains("refund")) {
           if (!body["refund"].is_string()
               || (body["refund"] != "none" && body["refund"] != "prorated")) {
             out->respond(invalid_field("refund", "none or prorated"));
             return;
           }
           cmd.prorated_refund = body["refund"] == "prorated";
         }
         if (cmd.at_period_end && cmd.prorated_refund) {
           out->respond(invalid_field(
             "refund", "a cancel at period end leaves nothing unused to "
                       "refund"));
           return;
         }
       }
       auto id = std::string{req.param("id")};
       // A customer cancels their own subscription only.
       when_owned(ctx, "subscriptions", "customer_id", id, token_customer(req),
                  "subscription_not_found", "no subscription " + id,
                  std::move(out), [ctx, id, cmd](responder_ptr owned) {
                    send_command(ctx, id, cmd, std::move(owned));
                  });
     }});
  r.add({"POST",
         "/v1/subscriptions/{id}/change_plan",
         "subscriptions.change_plan",
         {true, true},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           subscription_command cmd;
           cmd.kind = kind::change_plan;
           std::string plan_id;
           int64_t version = 0;
           auto problem
             = check_object(body, {"plan", "plan_version", "at_period_end"});
           if (!problem)
             problem = read_string(body, "plan", 64, plan_id);
           if (!problem && body.contains("plan_version"))
             problem
               = read_integer(body, "plan_version", 1, 1'000'000, version);
           if (!problem && body.contains("at_period_end")) {
             if (body["at_period_end"].is_boolean())
               cmd.at_period_end = body["at_period_end"].get<bool>();
             else
               problem = invalid_field("at_period_end", "true or false");
           }
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           send_command(
             ctx, std::string{req.param("id")}, cmd, std::move(out),
             [plan_id, version](pg::connection& conn, subscription_command& c) {
               return pg::find_plan(conn, plan_id,
                                    static_cast<uint32_t>(version), c.to_plan);
             });
         }});
  r.add({"POST",
         "/v1/subscriptions/{id}/payment_method",
         "subscriptions.payment_method",
         {true, true},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           subscription_command cmd;
           cmd.kind = kind::payment_method;
           if (auto problem = check_object(body, {"token"})) {
             out->respond(std::move(*problem));
             return;
           }
           if (auto problem = read_string(body, "token", 255, cmd.token)) {
             out->respond(std::move(*problem));
             return;
           }
           send_command(ctx, std::string{req.param("id")}, cmd, std::move(out));
         }});
}

} // namespace kassa
