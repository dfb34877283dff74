#include "node/routes/stats.hpp"

#include <chrono>
#include <ctime>

#include "adapters/http/replies.hpp"
#include "node/routes/request_checks.hpp"

namespace kassa {

namespace {

/// `YYYY-MM-DD`, or an RFC 3339 time `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`,
/// a real calendar day and time: whatever passes, PostgreSQL reads (a
/// value it could not would answer 503, not 422). `at`: the instant, in
/// seconds since the epoch (fractions dropped).
bool valid_time(const std::string& s, int64_t& at) {
  auto number = [&](size_t from, size_t n, int& out) {
    if (s.size() < from + n)
      return false;
    out = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9')
        return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0;
  if (!number(0, 4, year) || s.size() < 10 || s[4] != '-'
      || !number(5, 2, month) || s[7] != '-' || !number(8, 2, day)
      || year < 1970 || year > 9999)
    return false;
  // The day exists: timegm normalises 02-30 to 03-02, which reads back
  // differently.
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  auto t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (month < 1 || month > 12 || back.tm_mon != month - 1
      || back.tm_mday != day)
    return false;
  at = static_cast<int64_t>(t);
  if (s.size() == 10)
    return true;
  int hour = 0, minute = 0, second = 0;
  if (s[10] != 'T' || !number(11, 2, hour) || s.size() < 20 || s[13] != ':'
      || !number(14, 2, minute) || s[16] != ':' || !number(17, 2, second)
      || hour > 23 || minute > 59 || second > 60)
    return false;
  at += hour * 3600 + minute * 60 + second;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t digits = 0;
    while (++i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++digits;
    if (digits == 0 || digits > 9)
      return false;
  }
  if (i + 1 == s.size() && s[i] == 'Z')
    return true;
  int zh = 0, zm = 0;
  if (!(i + 6 == s.size() && (s[i] == '+' || s[i] == '-')
        && number(i + 1, 2, zh) && s[i + 3] == ':' && number(i + 4, 2, zm)
        && zh < 24 && zm < 60))
    return false;
  at -= (s[i] == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
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
  r.add(
    {"GET",
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
       int64_t from_s = 0;
       int64_t to_s = 0;
       for (auto* field : {"from", "to"}) {
         bool is_from = std::string_view{field} == "from";
         if (!valid_time(is_from ? from : to, is_from ? from_s : to_s)) {
           out->respond(invalid_field(
             field, "must be a date (2026-12-07) or an RFC 3339 time "
                    "(2026-12-07T10:00:00Z)"));
           return;
         }
       }
       if (to_s <= from_s) {
         out->respond(invalid_field("to", "must be after from"));
         return;
       }
       // A report has at most ~2,000 periods: the span a granularity
       // may cover (hour: 92 days, day: 5 years, month: 100 years).
       constexpr int64_t day_s = 86'400;
       int64_t max_days = granularity == "hour"  ? 92
                          : granularity == "day" ? 5 * 366
                                                 : 100 * 366;
       if (to_s - from_s > max_days * day_s) {
         out->respond(invalid_field("to", "at most " + std::to_string(max_days)
                                            + " days after "
                                              "from with granularity "
                                            + granularity));
         return;
       }
       ctx.stats.anon_send(atom::get::value, std::move(from), std::move(to),
                           std::move(granularity), reply_via(std::move(out)));
     }});
}

} // namespace kassa
