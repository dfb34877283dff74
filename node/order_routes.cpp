#include "node/order_routes.hpp"

#include <map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/order_saga_records.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/event_log.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/journal.hpp"
#include "adapters/postgres/saga_store.hpp"
#include "adapters/providers/sandbox.hpp"
#include "adapters/type_ids.hpp"
#include "node/request_checks.hpp"
#include "runtime/customer_token.hpp"
#include "runtime/journal.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

std::string ts(const char* column) {
  return pg::rfc3339_sql(column);
}

/// Runs `work` on a pool connection and answers `out` with its result.
void db_answer(const route_context& ctx, responder_ptr out,
               std::function<api_response(pg::connection&)> work) {
  submit_db_answer(ctx.db_pool, std::move(out), std::move(work));
}

/// Validates POST /v1/orders; fills `normalized` (items merged by SKU).
/// The `stage` of a saga in this status (migration 0013): the status once
/// terminal, `live` before.
std::string stage_of(const std::string& status) {
  return status == "completed" || status == "cancelled" || status == "failed"
           ? status
           : "live";
}

std::optional<api_response> validate_order(const route_context& ctx,
                                           const json& body, json& normalized) {
  if (auto p = check_object(body, {"customer", "items", "payment", "shipping"}))
    return p;
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
  if (provider != "sandbox" && !(provider == "stripe" && ctx.stripe))
    return invalid_field("payment.provider",
                         "unknown payment provider " + provider
                           + (ctx.stripe ? " (configured: sandbox, stripe)"
                                         : " (configured: sandbox)"));
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
  return std::nullopt;
}

/// `updated_at` is the time of the order's last journal entry (`sagas`
/// keeps the time of its last status change: the journal writes that row
/// only when the status changes).
std::string order_columns() {
  return "id, status, request::text, total_minor, currency, " + ts("created_at")
         + ", "
         + ts("coalesce((SELECT e.at FROM events AS e WHERE "
              "e.order_id = sagas.id AND e.stream_seq IS NOT NULL "
              "ORDER BY e.stream_seq DESC LIMIT 1), sagas.updated_at)");
}

/// An order as the API shows it: its row, and the steps, invoice, payment
/// and shipment folded from its journal (`journal`: its rows in `events`).
json order_view(const pg::result& res, int row,
                const std::vector<journal_entry>& journal,
                const saga_retry_policy& policy) {
  std::string request_text{res.value(row, 2)};
  auto request = json::parse(request_text);
  auto view = json::parse(
    order_view_json(fold_journal(journal, policy), parse_order(request_text)));
  json j{{"id", res.value(row, 0)},
         {"status", res.value(row, 1)},
         {"customer", request["customer"]},
         {"items", request["items"]},
         {"total_minor", std::stoll(std::string{res.value(row, 3)})},
         {"currency", res.value(row, 4)},
         {"steps", view.value("steps", json::array())},
         {"created_at", res.value(row, 5)},
         {"updated_at", res.value(row, 6)}};
  for (auto key : {"invoice", "payment", "shipment"})
    j[key] = view.contains(key) ? view[key] : json(nullptr);
  return j;
}

/// The views of the orders in `res` (one journal read for all of them).
std::optional<pg::error> order_views(pg::connection& conn,
                                     const pg::result& res,
                                     const saga_retry_policy& policy,
                                     json& out) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i)
    ids.emplace_back(res.value(i, 0));
  std::map<std::string, std::vector<journal_entry>> journals;
  if (auto err = read_saga_journals(conn, ids, journals))
    return err;
  for (int i = 0; i < res.rows(); ++i)
    out.push_back(
      order_view(res, i, journals[ids[static_cast<size_t>(i)]], policy));
  return std::nullopt;
}

/// Sends a command to the live saga of `id` after checking it exists and
/// is not finished (a finished saga is no longer running).

} // namespace

void saga_command(const route_context& ctx, const std::string& id,
                  caf::atom_value command, responder_ptr out) {
  auto sagas = ctx.sagas;
  db_job job = [sagas, id, command, out](pg::connection& conn) {
    pg::result res;
    std::optional<pg::error> err;
    if (!conn.ok())
      err = pg::error{"", "not connected"};
    else
      err = conn.exec("SELECT status FROM sagas WHERE id = $1", {id}, res);
    if (err) {
      out->respond(pg::database_failure(err->message));
    } else if (res.rows() == 0) {
      out->respond(error_response(404, "order_not_found", "no order " + id));
    } else {
      std::string status{res.value(0, 0)};
      if (status == "completed" || status == "cancelled" || status == "failed")
        out->respond(error_response(409, "order_finished",
                                    "order " + id + " is already " + status));
      else
        // The sagas supervisor holds it while the saga (re)starts.
        sagas.anon_send(atom::tell::value, id,
                        caf::make_message(command, std::move(out)));
    }
    return caf::message{};
  };
  ctx.db_pool.anon_send(atom::exec::value, std::move(job));
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
           // The intake group-commits creations (order_intake.hpp).
           ctx.order_intake.anon_send(
             atom::create::value, std::make_shared<json>(std::move(normalized)),
             std::move(idem), std::move(out));
         }});
  r.add({"GET",
         "/v1/orders/{id}",
         "orders.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           auto policy = ctx.saga_policy;
           db_answer(ctx, std::move(out), [id, policy](pg::connection& conn) {
             pg::result res;
             if (auto err = conn.exec("SELECT " + order_columns()
                                        + " FROM sagas WHERE id = $1",
                                      {id}, res))
               return pg::database_failure(err->message);
             if (res.rows() == 0)
               return error_response(404, "order_not_found", "no order " + id);
             json one = json::array();
             if (auto err = order_views(conn, res, policy, one))
               return pg::database_failure(err->message);
             return json_response(200, one[0].dump());
           });
         }});
  r.add({"GET",
         "/v1/orders",
         "orders.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto status = req.query_param("status");
           auto after = req.query_param("after");
           auto limit_text = req.query_param("limit");
           int64_t limit = 50;
           if (!limit_text.empty()) {
             try {
               limit = std::stoll(limit_text);
             } catch (...) {
               limit = -1;
             }
             if (limit < 1 || limit > 500) {
               out->respond(invalid_field("limit", "must be 1 to 500"));
               return;
             }
           }
           static const std::vector<std::string> statuses{
             "pending",      "running",   "waiting", "completed",
             "compensating", "cancelled", "failed"};
           if (!status.empty()
               && std::find(statuses.begin(), statuses.end(), status)
                    == statuses.end()) {
             out->respond(invalid_field("status", "unknown status " + status));
             return;
           }
           db_answer(ctx, std::move(out), [=](pg::connection& conn) {
             pg::result res;
             // By status: through the (stage, id) index (migration 0013).
             auto err
               = status.empty()
                   ? conn.exec("SELECT " + order_columns()
                                 + " FROM sagas WHERE id > $1"
                                   " ORDER BY id LIMIT $2",
                               {after, std::to_string(limit)}, res)
                   : conn.exec(
                     "SELECT " + order_columns()
                       + " FROM sagas WHERE stage = $1 AND status = "
                         "$2 AND id > $3 ORDER BY id LIMIT $4",
                     {stage_of(status), status, after, std::to_string(limit)},
                     res);
             if (err)
               return pg::database_failure(err->message);
             json orders = json::array();
             if (auto err = order_views(conn, res, ctx.saga_policy, orders))
               return pg::database_failure(err->message);
             json page{{"orders", orders}, {"next", nullptr}};
             if (res.rows() == limit)
               page["next"] = res.value(res.rows() - 1, 0);
             return json_response(200, page.dump());
           });
         }});
  r.add({"GET",
         "/v1/orders/{id}/events",
         "orders.events",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto id = std::string{req.param("id")};
           db_answer(ctx, std::move(out), [id](pg::connection& conn) {
             pg::result res;
             if (auto err
                 = conn.exec("SELECT 1 FROM sagas WHERE id = $1", {id}, res))
               return pg::database_failure(err->message);
             if (res.rows() == 0)
               return error_response(404, "order_not_found", "no order " + id);
             if (auto err = conn.exec(
                   "SELECT stream_seq, type, data->>'step', coalesce(("
                   "data->>'attempt')::int, 0), data::text, "
                     + ts("at")
                     + " FROM event_entries WHERE order_id = $1 AND "
                       "stream_seq IS NOT NULL ORDER BY stream_seq",
                   {id}, res))
               return pg::database_failure(err->message);
             json events = json::array();
             for (int i = 0; i < res.rows(); ++i) {
               json e{{"seq", std::stoi(std::string{res.value(i, 0)})},
                      {"type", res.value(i, 1)},
                      {"attempt", std::stoi(std::string{res.value(i, 3)})},
                      {"data", json::parse(res.value(i, 4))},
                      {"at", res.value(i, 5)}};
               if (!res.is_null(i, 2))
                 e["step"] = res.value(i, 2);
               events.push_back(std::move(e));
             }
             return json_response(200, json{{"events", events}}.dump());
           });
         }});
  r.add({"POST",
         "/v1/orders/{id}/cancel",
         "orders.cancel",
         {},
         [ctx](api_request& req, responder_ptr out) {
           saga_command(ctx, std::string{req.param("id")}, atom::cancel::value,
                        std::move(out));
         }});
  r.add({"POST",
         "/v1/orders/{id}/payment/confirm",
         "orders.confirm",
         {},
         [ctx](api_request& req, responder_ptr out) {
           saga_command(ctx, std::string{req.param("id")}, atom::confirm::value,
                        std::move(out));
         }});
}

} // namespace kassa
