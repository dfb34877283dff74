#include "adapters/postgres/order_queries.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/order_saga_records.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/saga_store.hpp"

namespace kassa::pg {

namespace {

using json = nlohmann::json;

std::string ts(const char* column) {
  return rfc3339_sql(column);
}

/// The `stage` of a saga in this status (migration 0013): the status once
/// terminal, `live` before.
std::string stage_of(const std::string& status) {
  return status == "completed" || status == "cancelled" || status == "failed"
           ? status
           : "live";
}

/// `updated_at` is the time of the order's last journal entry (`sagas`
/// keeps the time of its last status change: the journal writes that row
/// only when the status changes).
std::string order_columns() {
  return "id, status, request::text, total_minor, currency, " + ts("created_at")
         + ", "
         + ts("coalesce((SELECT e.at FROM events AS e WHERE "
              "e.order_id = sagas.id AND e.stream_seq IS NOT NULL "
              "ORDER BY e.stream_seq DESC LIMIT 1), sagas.updated_at)");
}

/// An order as the API shows it: its row, and the steps, invoice, payment
/// and shipment folded from its journal (`journal`: its rows in `events`).
json order_view(const result& res, int row,
                const std::vector<journal_entry>& journal,
                const saga_retry_policy& policy) {
  std::string request_text{res.value(row, 2)};
  auto request = json::parse(request_text);
  auto order = parse_order(request_text);
  auto view = json::parse(order_view_json(
    fold_journal(journal, policy, order.manual_capture), order));
  json j{{"id", res.value(row, 0)},
         {"status", res.value(row, 1)},
         {"customer", request["customer"]},
         {"items", request["items"]},
         {"total_minor", std::stoll(std::string{res.value(row, 3)})},
         {"currency", res.value(row, 4)},
         {"steps", view.value("steps", json::array())},
         {"created_at", res.value(row, 5)},
         {"updated_at", res.value(row, 6)}};
  for (auto key : {"invoice", "payment", "shipment"})
    j[key] = view.contains(key) ? view[key] : json(nullptr);
  j["refunds"] = view.value("refunds", json::array());
  j["refunded_minor"] = view.value("refunded_minor", 0);
  j["disputes"] = view.value("disputes", json::array());
  if (view.contains("resolution"))
    j["resolution"] = view["resolution"];
  return j;
}

/// The views of the orders in `res` (one journal read for all of them).
std::optional<error> order_views(connection& conn, const result& res,
                                 const saga_retry_policy& policy, json& out) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i)
    ids.emplace_back(res.value(i, 0));
  std::map<std::string, std::vector<journal_entry>> journals;
  if (auto err = read_saga_journals(conn, ids, journals))
    return err;
  for (int i = 0; i < res.rows(); ++i)
    out.push_back(
      order_view(res, i, journals[ids[static_cast<size_t>(i)]], policy));
  return std::nullopt;
}

reply no_order(const std::string& id) {
  return reply::fail(failure_code::order_not_found, "no order " + id);
}

} // namespace

bool is_order_status(const std::string& status) {
  static constexpr std::array<std::string_view, 9> statuses{
    "pending",   "running", "waiting",          "completed", "compensating",
    "cancelled", "failed",  "awaiting_capture", "refunding"};
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

reply read_order(connection& conn, const std::string& id,
                 const saga_retry_policy& policy) {
  result res;
  if (auto err = conn.exec(
        "SELECT " + order_columns() + " FROM sagas WHERE id = $1", {id}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return no_order(id);
  json one = json::array();
  if (auto err = order_views(conn, res, policy, one))
    return database_failure(err->message);
  return reply::done(one[0].dump());
}

reply list_orders(connection& conn, const order_filter& filter,
                  const saga_retry_policy& policy) {
  result res;
  // By status: through the (stage, id) index (migration 0013); by
  // customer: through (customer_id, id) (0019). Ids grow with time, so
  // newest first is by id descending.
  std::vector<std::optional<std::string>> params;
  std::string where;
  auto condition = [&](const std::string& sql, std::string value) {
    params.emplace_back(std::move(value));
    where += (where.empty() ? " WHERE " : " AND ") + sql + " $"
             + std::to_string(params.size());
  };
  if (!filter.status.empty()) {
    condition("stage =", stage_of(filter.status));
    condition("status =", filter.status);
  }
  if (!filter.customer.empty())
    condition("customer_id =", filter.customer);
  if (!filter.after.empty() || !filter.newest_first)
    condition(filter.newest_first ? "id <" : "id >", filter.after);
  params.emplace_back(std::to_string(filter.limit));
  auto limit = filter.limit;
  auto err = conn.exec("SELECT " + order_columns() + " FROM sagas" + where
                         + " ORDER BY id" + (filter.newest_first ? " DESC" : "")
                         + " LIMIT $" + std::to_string(params.size()),
                       params, res);
  if (err)
    return database_failure(err->message);
  json orders = json::array();
  if (auto err = order_views(conn, res, policy, orders))
    return database_failure(err->message);
  json page{{"orders", orders}, {"next", nullptr}};
  if (res.rows() == limit)
    page["next"] = res.value(res.rows() - 1, 0);
  return reply::done(page.dump());
}

reply read_order_events(connection& conn, const std::string& id) {
  result res;
  if (auto err = conn.exec("SELECT 1 FROM sagas WHERE id = $1", {id}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return no_order(id);
  if (auto err = conn.exec("SELECT stream_seq, type, data->>'step', coalesce(("
                           "data->>'attempt')::int, 0), data::text, "
                             + ts("at")
                             + " FROM event_entries WHERE order_id = $1 AND "
                               "stream_seq IS NOT NULL ORDER BY stream_seq",
                           {id}, res))
    return database_failure(err->message);
  json events = json::array();
  for (int i = 0; i < res.rows(); ++i) {
    json e{{"seq", std::stoi(std::string{res.value(i, 0)})},
           {"type", res.value(i, 1)},
           {"attempt", std::stoi(std::string{res.value(i, 3)})},
           {"data", json::parse(res.value(i, 4))},
           {"at", res.value(i, 5)}};
    if (!res.is_null(i, 2))
      e["step"] = res.value(i, 2);
    events.push_back(std::move(e));
  }
  return reply::done(json{{"events", events}}.dump());
}

reply order_status(connection& conn, const std::string& id,
                   std::optional<std::string>& status) {
  status.reset();
  if (!conn.ok())
    return database_failure("not connected");
  result res;
  if (auto err = conn.exec("SELECT status FROM sagas WHERE id = $1", {id}, res))
    return database_failure(err->message);
  if (res.rows() > 0)
    status = std::string{res.value(0, 0)};
  return reply::done({});
}

} // namespace kassa::pg
