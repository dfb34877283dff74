#include "node/routes/orders.hpp"

#include <algorithm>
#include <map>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/order_queries.hpp"
#include "adapters/type_ids.hpp"
#include "node/routes/customer_scope.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/database_health.hpp"
#include "runtime/json_parse.hpp"
#include "runtime/shards.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

/// Validates POST /v1/orders; fills `normalized` (items merged by SKU).
std::optional<api_response> validate_order(const route_context& ctx,
                                           const json& body, json& normalized) {
  if (auto p = check_object(
        body, {"customer", "items", "payment", "shipping", "capture"}))
    return p;
  auto capture = body.value("capture", json("automatic"));
  if (capture != "automatic" && capture != "manual")
    return invalid_field("capture", "automatic (the default) or manual");
  auto customer = body.find("customer");
  if (customer == body.end() || !customer->is_object())
    return invalid_field("customer", "required object");
  std::string customer_id;
  if (auto p = read_string(*customer, "id", 128, customer_id))
    return invalid_field("customer.id",
                         "required string of 1 to 128 characters");
  for (auto field : {"name", "email", "tax_number"})
    if (customer->contains(field) && !(*customer)[field].is_string())
      return invalid_field(std::string{"customer."} + field,
                           "must be a string");
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()
      || items->size() > 100)
    return invalid_field("items", "required array of 1 to 100 items");
  std::map<std::string, int64_t> merged;
  for (size_t i = 0; i < items->size(); ++i) {
    auto& item = (*items)[i];
    auto path = "items[" + std::to_string(i) + "]";
    if (!item.is_object())
      return invalid_field(path, "must be an object");
    std::string sku;
    int64_t quantity = 0;
    if (read_string(item, "sku", 64, sku))
      return invalid_field(path + ".sku", "required string");
    if (read_integer(item, "quantity", 1, 1'000'000, quantity))
      return invalid_field(path + ".quantity",
                           "required integer between 1 and 1000000");
    merged[sku] += quantity;
  }
  auto payment = body.find("payment");
  if (payment == body.end() || !payment->is_object())
    return invalid_field("payment", "required object");
  std::string token;
  if (read_string(*payment, "token", 128, token))
    return invalid_field("payment.token", "required string");
  if (payment->contains("provider") && !(*payment)["provider"].is_string())
    return invalid_field("payment.provider", "must be a string");
  auto provider = payment->value("provider", ctx.payment_provider);
  auto& known = ctx.payment_processors;
  if (std::find(known.begin(), known.end(), provider) == known.end()) {
    std::string list;
    for (auto& k : known)
      list += (list.empty() ? "" : ", ") + k;
    return invalid_field("payment.provider", "unknown payment provider "
                                               + provider
                                               + " (configured: " + list + ")");
  }
  std::string country;
  if (payment->contains("country")) {
    auto& c = (*payment)["country"];
    bool ok = c.is_string() && c.get<std::string>().size() == 2;
    if (ok)
      for (auto ch : c.get<std::string>())
        ok = ok && ch >= 'A' && ch <= 'Z';
    if (!ok)
      return invalid_field("payment.country",
                           "an ISO 3166-1 alpha-2 code in upper case");
    country = c.get<std::string>();
  }
  if (payment->contains("method") && !(*payment)["method"].is_string())
    return invalid_field("payment.method", "must be card");
  auto method = payment->value("method", "card");
  if (method != "card")
    return invalid_field("payment.method", "must be card");
  json shipping = json::object();
  if (auto s = body.find("shipping"); s != body.end()) {
    if (!s->is_object())
      return invalid_field("shipping", "must be an object");
    if (s->contains("provider") && !(*s)["provider"].is_string())
      return invalid_field("shipping.provider", "must be a string");
    if (s->value("provider", "sandbox") != "sandbox")
      return invalid_field("shipping.provider",
                           "unknown shipping provider (configured: sandbox)");
    shipping = *s;
  }
  json lines = json::array();
  for (auto& [sku, quantity] : merged)
    lines.push_back({{"sku", sku}, {"quantity", quantity}});
  normalized = {
    {"customer", *customer},
    {"items", lines},
    {"payment", {{"provider", provider}, {"method", method}, {"token", token}}},
    {"invoicing", {{"provider", ctx.invoicing_provider}}},
    {"shipping", shipping}};
  if (capture == "manual")
    normalized["capture"] = "manual"; // automatic orders stay as they were
  if (!country.empty()) // only when given: other orders stay as they were
    normalized["payment"]["country"] = country;
  return std::nullopt;
}

/// An optional JSON object body with only `allowed` members: `body` is an
/// empty object when the request has none.
std::optional<api_response>
read_optional_body(const api_request& req,
                   std::initializer_list<const char*> allowed, json& body) {
  body = json::object();
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return std::nullopt;
  if (auto problem = parse_json(req.body, body))
    return error_response(400, "malformed_json", problem->message,
                          problem->field);
  return check_object(body, allowed);
}

/// Reads a capture's optional body `{"amount_minor": n, "final": bool}`
/// (no amount: all that is left; `final` false: more captures may follow,
/// which needs an amount and an Idempotency-Key — a capture sent twice
/// must not take twice).
std::optional<api_response> read_capture(const api_request& req,
                                         order_command& out) {
  out = order_command{atom::capture::value};
  json body;
  if (auto p = read_optional_body(req, {"amount_minor", "final"}, body))
    return p;
  if (body.contains("amount_minor")
      && read_integer(body, "amount_minor", 1, 1'000'000'000'000,
                      out.amount_minor))
    return invalid_field("amount_minor",
                         "an integer between 1 and 1000000000000");
  if (auto f = body.find("final"); f != body.end()) {
    if (!f->is_boolean())
      return invalid_field("final", "true (the default) or false");
    out.final_capture = f->get<bool>();
  }
  out.key = std::string{req.header("idempotency-key")};
  if (out.key.size() > 255)
    return invalid_field("Idempotency-Key", "at most 255 characters");
  if (!out.final_capture && out.amount_minor == 0)
    return invalid_field("amount_minor",
                         "required when \"final\" is false (the part of the "
                         "authorization to capture now)");
  if (!out.final_capture && out.key.empty())
    return invalid_field("Idempotency-Key",
                         "required when \"final\" is false: a capture sent "
                         "again with it is not made twice");
  return std::nullopt;
}

/// Reads a confirmation's optional body `{"details": {"<name>": "<text>",
/// …}}`: what the shopper's return from 3-D Secure carried (Adyen's
/// `redirectResult` or `threeDSResult`), handed to the processor as is.
std::optional<api_response> read_confirm(const api_request& req,
                                         std::string& details) {
  details.clear();
  json body;
  if (auto p = read_optional_body(req, {"details"}, body))
    return p;
  auto d = body.find("details");
  if (d == body.end())
    return std::nullopt;
  if (!d->is_object() || d->empty() || d->size() > 16)
    return invalid_field("details",
                         "an object of 1 to 16 members, each a string");
  for (auto& [name, value] : d->items())
    if (name.empty() || !value.is_string())
      return invalid_field("details." + name, "must be a string");
  details = d->dump();
  if (details.size() > 32768)
    return invalid_field("details", "at most 32 KiB");
  return std::nullopt;
}

/// Reads a refund: `{"amount_minor": n, "reason"?: "…"}` with an
/// Idempotency-Key (required: a refund sent twice must not pay twice).
std::optional<api_response> read_refund(const api_request& req,
                                        order_command& out) {
  out = order_command{atom::refund::value};
  out.key = std::string{req.header("idempotency-key")};
  if (out.key.empty() || out.key.size() > 255)
    return invalid_field("Idempotency-Key",
                         "required header of 1 to 255 characters: a refund "
                         "sent again with it is not made twice");
  auto& body = req.body_json();
  if (auto p = check_object(body, {"amount_minor", "reason", "lines"}))
    return p;
  if (body.contains("lines")) {
    auto& lines = body["lines"];
    if (!lines.is_array() || lines.empty() || lines.size() > 1000)
      return invalid_field("lines", "an array of 1 to 1000 {sku, quantity}");
    std::map<std::string, int64_t> merged; // one line per SKU
    for (size_t i = 0; i < lines.size(); ++i) {
      auto path = "lines[" + std::to_string(i) + "]";
      if (!lines[i].is_object())
        return invalid_field(path, "must be an object");
      if (auto p = check_object(lines[i], {"sku", "quantity"}))
        return p;
      std::string sku;
      int64_t quantity = 0;
      if (read_string(lines[i], "sku", 64, sku))
        return invalid_field(path + ".sku", "required string");
      if (read_integer(lines[i], "quantity", 1, 1'000'000, quantity))
        return invalid_field(path + ".quantity",
                             "required integer between 1 and 1000000");
      merged[sku] += quantity;
    }
    for (auto& [sku, quantity] : merged)
      out.lines.push_back({sku, quantity});
  }
  // With lines the amount is their value unless given (then at most it).
  if ((out.lines.empty() || body.contains("amount_minor"))
      && read_integer(body, "amount_minor", 1, 1'000'000'000'000,
                      out.amount_minor))
    return invalid_field("amount_minor",
                         out.lines.empty()
                           ? "required integer between 1 and 1000000000000"
                           : "an integer between 1 and 1000000000000");
  if (body.contains("reason")
      && (!body["reason"].is_string()
          || body["reason"].get_ref<const std::string&>().size() > 500))
    return invalid_field("reason", "a string of at most 500 characters");
  out.reason = body.value("reason", "");
  return std::nullopt;
}

/// A customer's command for the saga of `id`: `command` came from a route
/// or from a peer's forward (adapters/cluster), so it is checked here and
/// the message the saga gets is a typed one.
void tell_saga(const saga_directory& sagas, const std::string& id,
               const order_command& command, reply_ptr out) {
  // Always through `start_and_tell`: the saga may not run here yet (a node
  // that just started adds its unfinished sagas a moment later) or may be
  // exiting (it finished after the status was read); `add` skips a running
  // one, and a finished one loads, answers and exits again.
  if (!is_known(command))
    out->send(reply::fail(failure_code::internal,
                          "no such order command: " + to_string(command)));
  else if (command.kind == atom::cancel::value)
    sagas.start_and_tell(id, atom::cancel::value, std::move(out));
  else if (command.kind == atom::confirm::value)
    sagas.start_and_tell(id, atom::confirm::value, command.details,
                         std::move(out));
  else if (command.kind == atom::capture::value)
    sagas.start_and_tell(id, atom::capture::value, command.amount_minor,
                         command.key, command.final_capture, std::move(out));
  else if (command.kind == atom::refund::value)
    sagas.start_and_tell(id, atom::refund::value, command.amount_minor,
                         command.key, command.reason, command.lines,
                         std::move(out));
  else if (command.kind == atom::dispute::value)
    sagas.start_and_tell(id, atom::dispute::value, command.dispute,
                         std::move(out));
  else if (command.kind == atom::settle::value)
    sagas.start_and_tell(id, atom::settle::value, command.payment,
                         std::move(out));
  else if (command.kind == atom::retry_comp::value)
    sagas.start_and_tell(id, atom::retry_comp::value, std::move(out));
  else if (command.kind == atom::resolve::value)
    sagas.start_and_tell(id, atom::resolve::value, command.reason, command.key,
                         std::move(out));
  else
    sagas.start_and_tell(id, atom::void_auth::value, std::move(out));
}

} // namespace

void saga_command(const route_context& ctx, const std::string& id,
                  order_command command, reply_ptr out) {
  if (ctx.ownership && !ctx.ownership->holds(id) && ctx.mesh) {
    ctx.mesh.anon_send(atom::forward::value, command, id, std::move(out));
    return;
  }
  saga_command_here(ctx.db_pool, ctx.sagas, ctx.ownership.get(), id, command,
                    std::move(out));
}

void saga_command_here(const db_pool_handle& db, const saga_directory& sagas,
                       const shard_ownership* ownership, const std::string& id,
                       order_command command, reply_ptr out) {
  if (ownership && !ownership->holds(id)) {
    out->send(reply::fail(failure_code::not_owner,
                          "order " + id
                            + " runs on another node (or its shard is "
                              "changing hands): retry in a moment"));
    return;
  }
  submit_db_work(db, [sagas, id, command,
                      out = std::move(out)](pg::connection& conn) {
    std::optional<std::string> status;
    auto looked_up = pg::order_status(conn, id, status);
    if (looked_up.failed())
      out->send(std::move(looked_up));
    else if (!status)
      out->send(reply::fail(failure_code::order_not_found, "no order " + id));
    else if ((command.kind == atom::retry_comp::value
              || command.kind == atom::resolve::value)
             && *status != "failed")
      out->send(reply::fail(failure_code::order_not_failed,
                            "order " + id + " is " + *status
                              + ": only a failed order's compensations are "
                                "retried or its failure resolved"));
    else if (command.kind == atom::retry_comp::value
             || command.kind == atom::resolve::value)
      tell_saga(sagas, id, command, out);
    else if (command.kind != atom::dispute::value // a fact, at any time
             && command.kind != atom::settle::value
             && ((*status == "completed" && command.kind != atom::refund::value)
                 || *status == "cancelled" || *status == "failed"))
      out->send(reply::fail(failure_code::order_finished,
                            "order " + id + " is already " + *status));
    else
      tell_saga(sagas, id, command, out);
  });
}

void add_order_routes(router& r, const route_context& ctx) {
  r.add({"POST",
         "/v1/orders",
         "orders.create",
         {true, true},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           json normalized;
           idempotency idem;
           auto problem = read_idempotency(req, "orders.create", idem);
           if (!problem)
             problem = validate_order(ctx, body, normalized);
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           if (ctx.database && !ctx.database->up()) {
             // Fail fast: the intake could not write it, and while the
             // database is away the node may hold no shard either.
             out->respond(
               to_response(database_unavailable(ctx.database->last_reason())));
             return;
           }
           // The intake group-commits creations (order_intake.hpp).
           ctx.order_intake.anon_send(
             atom::create::value, std::make_shared<json>(std::move(normalized)),
             std::move(idem), reply_via(std::move(out)));
         }});
  r.add({"GET", "/v1/orders/{id}", "orders.get", member_route(false),
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           auto policy = ctx.saga_policy;
           // A customer token sees its own orders only.
           out
             = owned_only(token_customer(req), "/customer/id",
                          "order_not_found", "no order " + id, std::move(out));
           db_answer(ctx, std::move(out), [id, policy](pg::connection& conn) {
             return pg::read_order(conn, id, policy);
           });
         }});
  r.add({"GET", "/v1/orders", "orders.list", member_route(false),
         [ctx](api_request& req, responder_ptr out) {
           pg::order_filter filter;
           filter.status = req.query_param("status");
           filter.customer = req.query_param("customer");
           if (narrow_to_own(req, filter.customer, out))
             return; // another customer's: 403
           filter.after = req.query_param("after");
           auto order = req.query_param("order");
           if (auto problem
               = read_query_integer(req, "limit", 1, 500, filter.limit)) {
             out->respond(std::move(*problem));
             return;
           }
           if (!filter.status.empty() && !pg::is_order_status(filter.status)) {
             out->respond(
               invalid_field("status", "unknown status " + filter.status));
             return;
           }
           if (!order.empty() && order != "asc" && order != "desc") {
             out->respond(invalid_field("order", "must be asc or desc"));
             return;
           }
           if (filter.customer.size() > 200) {
             out->respond(invalid_field("customer", "at most 200 characters"));
             return;
           }
           filter.newest_first = order == "desc";
           auto policy = ctx.saga_policy;
           db_answer(ctx, std::move(out), [=](pg::connection& conn) {
             return pg::list_orders(conn, filter, policy);
           });
         }});
  r.add({"GET",
         "/v1/orders/{id}/events",
         "orders.events",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           db_answer(ctx, std::move(out), [id](pg::connection& conn) {
             return pg::read_order_events(conn, id);
           });
         }});
  r.add({"POST", "/v1/orders/{id}/cancel", "orders.cancel", audited_command(),
         [ctx](api_request& req, responder_ptr out) {
           saga_command(ctx, std::string{req.param("id")},
                        order_command{atom::cancel::value},
                        reply_via(std::move(out)));
         }});
  r.add({"POST", "/v1/orders/{id}/capture", "orders.capture", audited_command(),
         [ctx](api_request& req, responder_ptr out) {
           order_command command;
           if (auto problem = read_capture(req, command)) {
             out->respond(std::move(*problem));
             return;
           }
           saga_command(ctx, std::string{req.param("id")}, std::move(command),
                        reply_via(std::move(out)));
         }});
  r.add({"POST", "/v1/orders/{id}/refunds", "orders.refund",
         audited_command(true), [ctx](api_request& req, responder_ptr out) {
           order_command command;
           if (auto problem = read_refund(req, command)) {
             out->respond(std::move(*problem));
             return;
           }
           saga_command(ctx, std::string{req.param("id")}, std::move(command),
                        reply_via(std::move(out)));
         }});
  r.add({"POST", "/v1/orders/{id}/retry_compensation",
         "orders.retry_compensation", operator_action(),
         [ctx](api_request& req, responder_ptr out) {
           saga_command(ctx, std::string{req.param("id")},
                        order_command{atom::retry_comp::value},
                        reply_via(std::move(out)));
         }});
  r.add({"POST", "/v1/orders/{id}/resolve", "orders.resolve",
         operator_action(true), [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           std::string note;
           auto problem = check_object(body, {"note"});
           if (!problem)
             problem = read_string(body, "note", 2000, note);
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           order_command command{atom::resolve::value};
           command.reason = std::move(note);
           command.key = req.who->name + " (" + req.who->id + ")";
           saga_command(ctx, std::string{req.param("id")}, std::move(command),
                        reply_via(std::move(out)));
         }});
  r.add({"POST", "/v1/orders/{id}/void", "orders.void", audited_command(),
         [ctx](api_request& req, responder_ptr out) {
           saga_command(ctx, std::string{req.param("id")},
                        order_command{atom::void_auth::value},
                        reply_via(std::move(out)));
         }});
  r.add({"POST",
         "/v1/orders/{id}/payment/confirm",
         "orders.confirm",
         {},
         [ctx](api_request& req, responder_ptr out) {
           order_command confirm{atom::confirm::value};
           if (auto bad = read_confirm(req, confirm.details)) {
             out->respond(std::move(*bad));
             return;
           }
           saga_command(ctx, std::string{req.param("id")}, std::move(confirm),
                        reply_via(std::move(out)));
         }});
}

} // namespace kassa
