#include "adapters/postgres/reconnect.hpp"

#include "runtime/database_health.hpp"

namespace kassa::pg {

std::optional<std::string> ensure_connected(
  tracked_connection& c, const std::string& url, int timeout_s,
  database_health* health,
  const std::function<std::optional<error>(connection&)>& setup) {
  if (health != nullptr && c.conn.ok() && c.epoch != health->epoch())
    c.conn = connection{}; // to a server that went away meanwhile
  if (c.conn.ok())
    return std::nullopt;
  if (health != nullptr && !health->up())
    return "database unavailable: " + health->last_reason();
  auto epoch = health != nullptr ? health->epoch() : 0;
  connection fresh;
  auto err = connection::open(url, timeout_s, fresh);
  if (!err && setup)
    err = setup(fresh);
  if (err) {
    if (health != nullptr)
      health->report_lost(err->message);
    return "database unavailable: " + err->message;
  }
  c.conn = std::move(fresh);
  c.epoch = epoch;
  return std::nullopt;
}

bool note_if_broken(const tracked_connection& c, database_health* health) {
  if (c.conn.ok())
    return false;
  if (health != nullptr)
    health->report_lost("the connection to the database broke");
  return true;
}

} // namespace kassa::pg
