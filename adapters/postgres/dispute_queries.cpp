#include "adapters/postgres/dispute_queries.hpp"

#include <nlohmann/json.hpp>

#include "actors/order_saga_records.hpp"
#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

using json = nlohmann::json;

reply order_of_payment(connection& conn, const std::string& payment_ref,
                       std::optional<std::string>& order_id) {
  result res;
  if (auto err = conn.exec("SELECT id FROM sagas WHERE payment_ref = $1 "
                           "AND payment_ref IS NOT NULL LIMIT 1",
                           {payment_ref}, res))
    return database_unavailable(err->message);
  if (res.rows() == 1)
    order_id = std::string{res.value(0, 0)};
  return reply::done({});
}

bool is_dispute_status(const std::string& status) {
  return status == "needs_response" || status == "under_review"
         || status == "won" || status == "lost" || status == "open";
}

reply list_disputes(connection& conn, const std::string& status,
                    const std::string& order_id, int64_t before,
                    int64_t limit) {
  // A dispute's events are the first of their rows (migration 0016), found
  // through the partial index; each holds the whole dispute, so its last
  // one is the dispute. `open`: not won or lost yet.
  result res;
  if (auto err = conn.exec(
        "SELECT seq, order_id, type, data::text, " + rfc3339_sql("at")
          + " FROM (SELECT DISTINCT ON (data->>'dispute_id') seq, order_id,"
            " type, data, at FROM events WHERE type LIKE 'dispute.%'"
            " AND ($2 = '' OR order_id = $2)"
            " ORDER BY data->>'dispute_id', seq DESC) AS last"
            " WHERE ($1 = '' OR ($1 = 'open' AND data->>'dispute_status'"
            " IN ('needs_response', 'under_review'))"
            " OR data->>'dispute_status' = $1)"
            " AND ($3::bigint = 0 OR seq < $3::bigint)"
            " ORDER BY seq DESC LIMIT $4::bigint",
        {status, order_id, std::to_string(before), std::to_string(limit + 1)},
        res))
    return database_unavailable(err->message);
  json items = json::array();
  auto rows = std::min<int64_t>(res.rows(), limit);
  for (int i = 0; i < rows; ++i) {
    auto data = json::parse(res.value(i, 3), nullptr, false);
    if (!data.is_object())
      continue;
    dispute_state d;
    d.id = data.value("dispute_id", "");
    d.processor = data.value("processor", "");
    d.payment_ref = data.value("ref", "");
    d.status = data.value("dispute_status", "");
    d.amount_minor = data.value("amount_minor", int64_t{0});
    d.currency = data.value("currency", "");
    d.reason = data.value("reason", "");
    d.due_by = data.value("due_by", "");
    d.withdrawn_minor = data.value("withdrawn_minor", int64_t{0});
    d.reinstated_minor = data.value("reinstated_minor", int64_t{0});
    auto j = dispute_json(d);
    j["order_id"] = res.value(i, 1);
    j["last_event"] = res.value(i, 2);
    j["updated_at"] = res.value(i, 4);
    items.push_back(std::move(j));
  }
  json body{{"disputes", std::move(items)}};
  if (res.rows() > limit)
    body["next_before"]
      = std::stoll(std::string{res.value(static_cast<int>(limit - 1), 0)});
  else
    body["next_before"] = nullptr;
  return reply::done(body.dump());
}

} // namespace kassa::pg
