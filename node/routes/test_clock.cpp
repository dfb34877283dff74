#include "node/routes/test_clock.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "node/routes/request_checks.hpp"
#include "runtime/clock.hpp"

namespace kassa {

namespace {

std::string clock_state(const node_clock& clock) {
  using namespace std::chrono;
  nlohmann::json body{
    {"now", rfc3339(time_point_cast<seconds>(clock.now()))},
    {"offset_seconds", duration_cast<seconds>(clock.offset()).count()},
  };
  return body.dump();
}

} // namespace

void add_test_clock_routes(router& r, const route_context& ctx) {
  if (!ctx.clock || !ctx.clock->movable())
    return;
  auto clock = ctx.clock;
  r.add({"GET",
         "/v1/test_clock",
         "test_clock.get",
         {true, false, false},
         [clock](api_request&, responder_ptr out) {
           out->respond(json_response(200, clock_state(*clock)));
         }});
  r.add({"POST",
         "/v1/test_clock/advance",
         "test_clock.advance",
         {true, true},
         [ctx, clock](api_request& req, responder_ptr out) {
           auto& body = req.body_json();
           if (auto problem = check_object(body, {"seconds"})) {
             out->respond(std::move(*problem));
             return;
           }
           int64_t seconds = 0;
           // At most ten years at a time.
           if (auto problem
               = read_integer(body, "seconds", 1, 315'360'000, seconds)) {
             out->respond(std::move(*problem));
             return;
           }
           clock->advance(std::chrono::seconds{seconds});
           // Stored, so a restarted node keeps the time its jobs are due
           // in (the offset only grows: the larger of two writes wins).
           auto offset = clock->offset().count();
           db_answer(ctx, std::move(out), [clock, offset](pg::connection& c) {
             pg::result res;
             if (auto err = c.exec("UPDATE test_clock SET offset_ms = "
                                   "GREATEST(offset_ms, $1::bigint)",
                                   {std::to_string(offset)}, res))
               return pg::database_failure(
                 "the clock moved but its offset was not stored: "
                 + err->message);
             return reply::done(clock_state(*clock));
           });
         }});
}

} // namespace kassa
