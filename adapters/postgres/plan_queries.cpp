#include "adapters/postgres/plan_queries.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

namespace {

using json = nlohmann::json;

/// The columns every read selects, in this order.
std::string plan_columns() {
  return "id, version, name, amount_minor, currency, interval, "
         "interval_count, trial_days, setup_fee_minor, "
         + rfc3339_sql("created_at");
}

json plan_json(const result& res, int row) {
  auto number = [&](int column) {
    return std::stoll(std::string{res.value(row, column)});
  };
  return json{
    {"id", res.value(row, 0)},       {"version", number(1)},
    {"name", res.value(row, 2)},     {"amount_minor", number(3)},
    {"currency", res.value(row, 4)}, {"interval", res.value(row, 5)},
    {"interval_count", number(6)},   {"trial_days", number(7)},
    {"setup_fee_minor", number(8)},  {"created_at", res.value(row, 9)}};
}

plan plan_of(const result& res, int row) {
  plan p;
  p.id = res.value(row, 0);
  p.version = static_cast<uint32_t>(std::stoul(std::string{res.value(row, 1)}));
  p.name = res.value(row, 2);
  p.amount_minor = std::stoll(std::string{res.value(row, 3)});
  p.currency = res.value(row, 4);
  p.interval = res.value(row, 5);
  p.interval_count
    = static_cast<uint32_t>(std::stoul(std::string{res.value(row, 6)}));
  p.trial_days
    = static_cast<uint32_t>(std::stoul(std::string{res.value(row, 7)}));
  p.setup_fee_minor = std::stoll(std::string{res.value(row, 8)});
  return p;
}

} // namespace

reply save_plan(connection& conn, const plan& p) {
  result latest;
  if (auto err = conn.exec("SELECT " + plan_columns()
                             + " FROM plans WHERE id = $1"
                               " ORDER BY version DESC LIMIT 1",
                           {p.id}, latest))
    return database_unavailable(err->message);
  uint32_t next = 1;
  if (latest.rows() == 1) {
    if (plan_of(latest, 0).same_terms(p))
      return reply::done(plan_json(latest, 0).dump()); // sent again
    next = plan_of(latest, 0).version + 1;
  }
  result made;
  if (auto err = conn.exec(
        "INSERT INTO plans (id, version, name, amount_minor, currency, "
        "interval, interval_count, trial_days, setup_fee_minor) VALUES "
        "($1, $2::integer, $3, $4::bigint, $5, $6, $7::integer, $8::integer, "
        "$9::bigint) RETURNING "
          + plan_columns(),
        {p.id, std::to_string(next), p.name, std::to_string(p.amount_minor),
         p.currency, p.interval, std::to_string(p.interval_count),
         std::to_string(p.trial_days), std::to_string(p.setup_fee_minor)},
        made)) {
    if (err->sqlstate == "23505")
      return reply::fail(failure_code::plan_changed,
                         "plan " + p.id + " got version " + std::to_string(next)
                           + " from another request meanwhile: send again",
                         "id");
    return database_unavailable(err->message);
  }
  return reply::created(plan_json(made, 0).dump());
}

reply find_plan(connection& conn, const std::string& id, uint32_t version,
                plan& out) {
  result res;
  if (auto err = conn.exec(
        "SELECT " + plan_columns()
          + " FROM plans WHERE id = $1 AND ($2::integer = 0 OR version = "
            "$2::integer) ORDER BY version DESC LIMIT 1",
        {id, std::to_string(version)}, res))
    return database_unavailable(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::plan_not_found,
                       version > 0 ? "plan " + id + " has no version "
                                       + std::to_string(version)
                                   : "no plan " + id,
                       version > 0 ? "plan_version" : "plan");
  out = plan_of(res, 0);
  return reply::done({});
}

reply get_plan(connection& conn, const std::string& id, uint32_t version) {
  result res;
  if (auto err = conn.exec("SELECT " + plan_columns()
                             + " FROM plans WHERE id = $1 ORDER BY version",
                           {id}, res))
    return database_unavailable(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::plan_not_found, "no plan " + id);
  int row = res.rows() - 1;
  if (version > 0) {
    row = -1;
    for (int i = 0; i < res.rows(); ++i)
      if (plan_of(res, i).version == version)
        row = i;
    if (row < 0)
      return reply::fail(
        failure_code::plan_not_found,
        "plan " + id + " has no version " + std::to_string(version), "version");
  }
  auto body = plan_json(res, row);
  json versions = json::array();
  for (int i = 0; i < res.rows(); ++i)
    versions.push_back(plan_of(res, i).version);
  body["versions"] = std::move(versions);
  return reply::done(body.dump());
}

reply list_plans(connection& conn, const std::string& after, int64_t limit) {
  result res;
  if (auto err = conn.exec(
        "SELECT " + plan_columns()
          + " FROM (SELECT DISTINCT ON (id) * FROM plans WHERE id > $1"
            " ORDER BY id, version DESC) AS latest ORDER BY id LIMIT "
            "$2::bigint",
        {after, std::to_string(limit + 1)}, res))
    return database_unavailable(err->message);
  json items = json::array();
  auto rows = std::min<int64_t>(res.rows(), limit);
  for (int i = 0; i < rows; ++i)
    items.push_back(plan_json(res, i));
  json body{{"plans", std::move(items)}};
  if (res.rows() > limit)
    body["next_after"] = res.value(static_cast<int>(limit - 1), 0);
  else
    body["next_after"] = nullptr;
  return reply::done(body.dump());
}

} // namespace kassa::pg
