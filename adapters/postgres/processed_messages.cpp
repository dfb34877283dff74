#include "adapters/postgres/processed_messages.hpp"

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa::pg {

reply was_processed(connection& conn, const std::string& consumer,
                    const std::string& message_id, bool& seen) {
  seen = false;
  if (!conn.ok())
    return database_failure("not connected");
  result res;
  if (auto err = conn.exec("SELECT 1 FROM processed_messages WHERE consumer "
                           "= $1 AND message_id = $2",
                           {consumer, message_id}, res))
    return database_failure(err->message);
  seen = res.rows() > 0;
  return reply::done({});
}

reply mark_processed(connection& conn, const std::string& consumer,
                     const std::string& message_id, std::string answer) {
  result res;
  if (auto err = conn.exec("INSERT INTO processed_messages (consumer, "
                           "message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           {consumer, message_id}, res))
    return database_failure(err->message);
  return reply::done(std::move(answer));
}

} // namespace kassa::pg
