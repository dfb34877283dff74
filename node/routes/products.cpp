#include "node/routes/products.hpp"

#include <algorithm>
#include <cctype>

#include <caf/message.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/product_queries.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

constexpr int64_t max_quantity = 1'000'000'000;

bool valid_sku(const std::string& sku) {
  for (char c : sku)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_'
        && c != '.')
      return false;
  return true;
}

/// The shard that owns `sku`.
const child_handle<inventory_actor>& shard_of(const route_context& ctx,
                                              const std::string& sku) {
  return ctx.inventory[inventory_shard(sku) % ctx.inventory.size()];
}

} // namespace

void add_product_routes(router& r, const route_context& ctx) {
  r.add({"POST",
         "/v1/products",
         "products.create",
         {true, true},
         [ctx](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           product p;
           idempotency idem;
           auto problem = check_object(
             body, {"sku", "name", "price_minor", "currency", "stock"});
           if (!problem)
             problem = read_idempotency(req, "products.create", idem);
           if (!problem)
             problem = read_string(body, "sku", 64, p.sku);
           if (!problem && !valid_sku(p.sku))
             problem = invalid_field("sku", "may hold only letters, digits, "
                                            "'-', '_' and '.'");
           if (!problem)
             problem = read_string(body, "name", 200, p.name);
           if (!problem)
             problem = read_integer(body, "price_minor", 0,
                                    1'000'000'000'000'000, p.price_minor);
           if (!problem)
             problem = read_string(body, "currency", 3, p.currency);
           if (!problem
               && (p.currency.size() != 3
                   || !std::all_of(p.currency.begin(), p.currency.end(),
                                   [](char c) {
                                     return c >= 'A' && c <= 'Z';
                                   })))
             problem = invalid_field("currency",
                                     "must be an ISO 4217 code such as HUF");
           if (!problem)
             problem = read_integer(body, "stock", 0, max_quantity, p.stock);
           if (problem) {
             out->respond(std::move(*problem));
             return;
           }
           auto sku = p.sku;
           shard_of(ctx, sku).anon_send(atom::create::value, std::move(p),
                                        std::move(idem),
                                        reply_via(std::move(out)));
         }});
  r.add({"GET",
         "/v1/products",
         "products.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto after = std::string{req.query_param("after")};
           int64_t limit = 100;
           if (auto problem
               = read_query_integer(req, "limit", 1, 1000, limit)) {
             out->respond(std::move(*problem));
             return;
           }
           db_answer(ctx, std::move(out), [after, limit](pg::connection& c) {
             return pg::list_products(c, after, limit);
           });
         }});
  r.add({"GET",
         "/v1/products/{sku}",
         "products.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto sku = std::string{req.param("sku")};
           shard_of(ctx, sku).anon_send(atom::get::value, sku,
                                        reply_via(std::move(out)));
         }});
  r.add(
    {"POST",
     "/v1/products/{sku}/stock",
     "products.stock",
     {true, true},
     [ctx](api_request& req, responder_ptr out) {
       auto& body = req.body_json();
       stock_change change;
       idempotency idem;
       auto problem = check_object(body, {"delta", "set"});
       if (!problem)
         problem = read_idempotency(req, "products.stock", idem);
       if (!problem && body.contains("delta") == body.contains("set"))
         problem = error_response(422, "invalid_body",
                                  "send exactly one of delta and set");
       if (!problem) {
         change.absolute = body.contains("set");
         problem = change.absolute
                     ? read_integer(body, "set", 0, max_quantity, change.amount)
                     : read_integer(body, "delta", -max_quantity, max_quantity,
                                    change.amount);
       }
       if (problem) {
         out->respond(std::move(*problem));
         return;
       }
       auto sku = std::string{req.param("sku")};
       shard_of(ctx, sku).anon_send(atom::update::value, sku, change,
                                    std::move(idem), reply_via(std::move(out)));
     }});
}

} // namespace kassa
