#include "node/routes/plans.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/plan_queries.hpp"
#include "adapters/postgres/pool.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

bool valid_id(const std::string& id) {
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
           || c == '.';
  });
}

/// Reads an optional integer field in [min, max] into `out` (absent: `out`
/// keeps its default).
std::optional<api_response> read_optional(const nlohmann::json& body,
                                          const char* field, int64_t min,
                                          int64_t max, int64_t& out) {
  if (!body.contains(field))
    return std::nullopt;
  return read_integer(body, field, min, max, out);
}

/// A plan from a request's body, or the 422 saying what is wrong.
std::optional<api_response> read_plan(const nlohmann::json& body, plan& p) {
  if (auto problem = check_object(
        body, {"id", "name", "amount_minor", "currency", "interval",
               "interval_count", "trial_days", "setup_fee_minor"}))
    return problem;
  if (auto problem = read_string(body, "id", 64, p.id))
    return problem;
  if (!valid_id(p.id))
    return invalid_field("id", "may hold only letters, digits, '-', '_' and "
                               "'.'");
  if (auto problem = read_string(body, "name", 200, p.name))
    return problem;
  if (auto problem = read_integer(body, "amount_minor", 0, 1'000'000'000'000,
                                  p.amount_minor))
    return problem;
  if (auto problem = read_string(body, "currency", 3, p.currency))
    return problem;
  if (p.currency.size() != 3
      || !std::all_of(p.currency.begin(), p.currency.end(), [](char c) {
           return c >= 'A' && c <= 'Z';
         }))
    return invalid_field("currency", "must be an ISO 4217 code such as HUF");
  if (auto problem = read_string(body, "interval", 5, p.interval))
    return problem;
  int64_t count = 1, trial = 0;
  if (auto problem = read_optional(body, "interval_count", 1, 3660, count))
    return problem;
  if (auto problem = read_optional(body, "trial_days", 0, 730, trial))
    return problem;
  if (auto problem = read_optional(body, "setup_fee_minor", 0,
                                   1'000'000'000'000, p.setup_fee_minor))
    return problem;
  p.interval_count = static_cast<uint32_t>(count);
  p.trial_days = static_cast<uint32_t>(trial);
  if (auto why = check_plan(p); !why.field.empty())
    return invalid_field(why.field, why.message);
  return std::nullopt;
}

} // namespace

void add_plan_routes(router& r, const route_context& ctx) {
  r.add({"POST",
         "/v1/plans",
         "plans.create",
         {true, true},
         [ctx](api_request& req, responder_ptr out) {
           plan p;
           if (auto problem = read_plan(req.body_json(), p)) {
             out->respond(std::move(*problem));
             return;
           }
           submit_db_answer(ctx.db_pool, reply_via(std::move(out)),
                            [p](pg::connection& conn) {
                              return pg::save_plan(conn, p);
                            });
         }});
  r.add({"GET",
         "/v1/plans",
         "plans.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           int64_t limit = 100;
           if (auto problem = read_query_integer(req, "limit", 1, 500, limit)) {
             out->respond(std::move(*problem));
             return;
           }
           auto after = std::string{req.query_param("after")};
           submit_db_answer(ctx.db_pool, reply_via(std::move(out)),
                            [after, limit](pg::connection& conn) {
                              return pg::list_plans(conn, after, limit);
                            });
         }});
  r.add({"GET",
         "/v1/plans/{id}",
         "plans.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           int64_t version = 0;
           if (auto problem
               = read_query_integer(req, "version", 0, 1'000'000, version)) {
             out->respond(std::move(*problem));
             return;
           }
           auto id = std::string{req.param("id")};
           submit_db_answer(ctx.db_pool, reply_via(std::move(out)),
                            [id, version](pg::connection& conn) {
                              return pg::get_plan(
                                conn, id, static_cast<uint32_t>(version));
                            });
         }});
}

} // namespace kassa
