#include "node/routes/jobs.hpp"

#include <charconv>

#include "adapters/http/replies.hpp"
#include "adapters/postgres/job_queries.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/clock.hpp"

namespace kassa {

namespace {

/// The {id} of /v1/jobs/{id}/...: a positive integer, or 404.
std::optional<int64_t> job_id(const api_request& req, responder_ptr& out) {
  auto text = req.param("id");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) {
    out->respond(
      error_response(404, "job_not_found", "no job " + std::string{text}));
    return std::nullopt;
  }
  return id;
}

} // namespace

void add_job_routes(router& r, const route_context& ctx) {
  r.add(
    {"GET",
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
           && status != "done" && status != "dead" && status != "canceled") {
         out->respond(invalid_field(
           "status", "must be one of pending, running, done, dead, canceled"));
         return;
       }
       auto kind = std::string{req.query_param("kind")};
       if (kind.size() > 100) {
         out->respond(invalid_field("kind", "at most 100 characters"));
         return;
       }
       db_answer(ctx, std::move(out), [=](pg::connection& conn) {
         return pg::list_jobs(conn, status, kind, after, limit);
       });
     }});
  r.add({"POST", "/v1/jobs/{id}/retry", "jobs.retry", operator_action(),
         [ctx](api_request& req, responder_ptr out) {
           auto id = job_id(req, out);
           if (!id)
             return;
           auto now_ms = ctx.clock ? ctx.clock->now_ms() : 0;
           if (!ctx.clock)
             now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
           db_answer(ctx, std::move(out), [id, now_ms](pg::connection& conn) {
             return pg::retry_job(conn, *id, now_ms);
           });
         }});
  r.add({"POST", "/v1/jobs/{id}/cancel", "jobs.cancel", operator_action(),
         [ctx](api_request& req, responder_ptr out) {
           auto id = job_id(req, out);
           if (!id)
             return;
           db_answer(ctx, std::move(out), [id](pg::connection& conn) {
             return pg::cancel_job(conn, *id);
           });
         }});
}

} // namespace kassa
