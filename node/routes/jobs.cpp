#include "node/routes/jobs.hpp"

#include <nlohmann/json.hpp>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/job_store.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

using json = nlohmann::json;

} // namespace

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
               return reply::done(body.dump());
             });
         }});
}

} // namespace kassa
