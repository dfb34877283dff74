#include "node/routes/stats.hpp"

#include <chrono>
#include <ctime>

#include "adapters/http/replies.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

/// `YYYY-MM-DD`, or an RFC 3339 time `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`:
/// checked by shape here, by PostgreSQL's parser after.
bool time_shaped(const std::string& s) {
  auto digits = [&](size_t from, size_t n) {
    if (s.size() < from + n)
      return false;
    for (size_t i = from; i < from + n; ++i)
      if (s[i] < '0' || s[i] > '9')
        return false;
    return true;
  };
  if (!(digits(0, 4) && s.size() >= 10 && s[4] == '-' && digits(5, 2)
        && s[7] == '-' && digits(8, 2)))
    return false;
  if (s.size() == 10)
    return true;
  if (s.size() < 20 || s[10] != 'T' || !digits(11, 2) || s[13] != ':'
      || !digits(14, 2) || s[16] != ':' || !digits(17, 2))
    return false;
  for (size_t i = 19; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.'
        && s[i] != 'Z' && s[i] != '+' && s[i] != '-' && s[i] != ':')
      return false;
  return true;
}

std::string utc_date(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

} // namespace

void add_stats_routes(router& r, const route_context& ctx) {
  r.add({"GET",
         "/v1/stats",
         "stats.get",
         {},
         [ctx](api_request& req, responder_ptr out) {
           auto from = std::string{req.query_param("from")};
           auto to = std::string{req.query_param("to")};
           auto granularity = std::string{req.query_param("granularity")};
           if (granularity.empty())
             granularity = "day";
           if (granularity != "hour" && granularity != "day"
               && granularity != "month") {
             out->respond(
               invalid_field("granularity", "must be one of hour, day, month"));
             return;
           }
           // By default the last 30 days, today included (UTC).
           auto now = std::chrono::system_clock::now();
           if (to.empty())
             to = utc_date(now + std::chrono::hours{24});
           if (from.empty())
             from = utc_date(now - std::chrono::hours{24 * 29});
           for (auto* field : {"from", "to"}) {
             auto& value = std::string_view{field} == "from" ? from : to;
             if (!time_shaped(value)) {
               out->respond(invalid_field(
                 field, "must be a date (2026-12-07) or an RFC 3339 time "
                        "(2026-12-07T10:00:00Z)"));
               return;
             }
           }
           ctx.stats.anon_send(atom::get::value, std::move(from), std::move(to),
                               std::move(granularity),
                               reply_via(std::move(out)));
         }});
}

} // namespace kassa
