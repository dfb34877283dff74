// Disputes: a processor's notice reaches the order's saga, which journals
// it (webhooks.cpp and the sandbox's chargeback tokens send them); the list
// reads the disputes' last events.

#include "node/routes/disputes.hpp"

#include "actors/type_ids.hpp"
#include "adapters/http/replies.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/dispute_queries.hpp"
#include "adapters/postgres/pool.hpp"
#include "node/routes/orders.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

void deliver_dispute(const route_context& ctx, dispute_notice notice,
                     reply_ptr out) {
  if (auto problem = check_dispute_notice(notice); !problem.empty()) {
    out->send(reply::fail(failure_code::invalid_field, problem));
    return;
  }
  if (!notice.order_id.empty()) {
    auto id = notice.order_id;
    saga_command(ctx, id, order_command{std::move(notice)}, std::move(out));
    return;
  }
  submit_db_work(ctx.db_pool, [ctx, notice = std::move(notice),
                               out = std::move(out)](pg::connection& conn) {
    std::optional<std::string> id;
    auto looked_up = pg::order_of_payment(conn, notice.payment_ref, id);
    if (looked_up.failed()) {
      out->send(std::move(looked_up));
      return;
    }
    if (!id) {
      out->send(
        reply::fail(failure_code::order_not_found,
                    "no order has payment '" + notice.payment_ref + "'"));
      return;
    }
    saga_command(ctx, *id, order_command{notice}, out);
  });
}

void add_dispute_routes(router& r, const route_context& ctx) {
  r.add({"GET",
         "/v1/disputes",
         "disputes.list",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto status = req.query_param("status");
           auto order = req.query_param("order_id");
           int64_t limit = 50;
           int64_t before = 0;
           if (auto problem = read_query_integer(req, "limit", 1, 500, limit)) {
             out->respond(std::move(*problem));
             return;
           }
           if (auto problem
               = read_query_integer(req, "before", 0, INT64_MAX, before)) {
             out->respond(std::move(*problem));
             return;
           }
           if (!status.empty() && !pg::is_dispute_status(status)) {
             out->respond(invalid_field(
               "status", "unknown status " + status
                           + " (open, needs_response, under_review, won, "
                             "lost)"));
             return;
           }
           db_answer(ctx, std::move(out), [=](pg::connection& conn) {
             return pg::list_disputes(conn, status, order, before, limit);
           });
         }});
}

} // namespace kassa
