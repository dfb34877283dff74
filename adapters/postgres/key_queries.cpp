#include "adapters/postgres/key_queries.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"

namespace kassa::pg {

namespace {

using json = nlohmann::json;

std::string key_columns() {
  return "id, name, role, " + rfc3339_sql("created_at") + ", "
         + rfc3339_sql("revoked_at");
}

json key_json(const result& res, int row) {
  json k{{"id", res.value(row, 0)},
         {"name", res.value(row, 1)},
         {"role", res.value(row, 2)},
         {"created_at", res.value(row, 3)},
         {"revoked_at", nullptr}};
  if (!res.is_null(row, 4))
    k["revoked_at"] = res.value(row, 4);
  return k;
}

} // namespace

reply create_key(connection& conn, const std::string& name, key_role role) {
  auto fresh = generate_api_key();
  result res;
  if (auto err = conn.exec(
        "INSERT INTO api_keys (id, name, role, key_sha256) "
        "VALUES ($1, $2, $3, $4) RETURNING "
          + key_columns(),
        {fresh.id, name, std::string{to_string(role)}, sha256_hex(fresh.key)},
        res))
    return database_failure(err->message);
  auto body = key_json(res, 0);
  body.erase("revoked_at");
  body["key"] = fresh.key;
  return reply::created(body.dump());
}

reply list_keys(connection& conn) {
  result res;
  if (auto err = conn.exec("SELECT " + key_columns()
                             + " FROM api_keys ORDER BY created_at, id",
                           {}, res))
    return database_failure(err->message);
  json keys = json::array();
  for (int i = 0; i < res.rows(); ++i)
    keys.push_back(key_json(res, i));
  return reply::done(json{{"keys", keys}}.dump());
}

reply revoke_key(connection& conn, const std::string& id) {
  result res;
  if (auto err = conn.exec("UPDATE api_keys SET revoked_at = "
                           "coalesce(revoked_at, now()) WHERE id = $1 "
                           "RETURNING "
                             + key_columns(),
                           {id}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::invalid_field, "no key " + id, "id");
  return reply::done(key_json(res, 0).dump());
}

std::string load_keys(connection& conn, std::vector<stored_key>& out) {
  out.clear();
  result res;
  if (auto err = conn.exec("SELECT id, name, role, key_sha256 FROM api_keys "
                           "WHERE revoked_at IS NULL",
                           {}, res))
    return err->message;
  for (int i = 0; i < res.rows(); ++i) {
    auto role = key_role_from_string(res.value(i, 2));
    if (!role)
      continue; // the table's CHECK keeps this from happening
    out.push_back({std::string{res.value(i, 0)}, std::string{res.value(i, 1)},
                   *role, std::string{res.value(i, 3)}});
  }
  return {};
}

std::string append_audit(connection& conn, const principal& who,
                         const std::string& action, const std::string& method,
                         const std::string& path, const std::string& request_id,
                         int status, const std::string& body, int64_t at_ms) {
  result res;
  if (auto err = conn.exec(
        "INSERT INTO audit_log (key_id, key_name, role, action, method, path, "
        "request_id, status, body, at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, timestamptz 'epoch' + $10::bigint * interval '1 "
        "millisecond')",
        {who.id, who.name, std::string{to_string(who.role)}, action, method,
         path, request_id, std::to_string(status), body, std::to_string(at_ms)},
        res))
    return err->message;
  return {};
}

reply list_audit(connection& conn, int64_t after, int64_t limit) {
  result res;
  if (auto err = conn.exec(
        "SELECT seq, " + rfc3339_sql("at")
          + ", key_id, key_name, role, action, method, path, request_id, "
            "status, body FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        {std::to_string(after), std::to_string(limit)}, res))
    return database_failure(err->message);
  json entries = json::array();
  for (int i = 0; i < res.rows(); ++i)
    entries.push_back(
      {{"seq", std::stoll(std::string{res.value(i, 0)})},
       {"at", res.value(i, 1)},
       {"key", {{"id", res.value(i, 2)}, {"name", res.value(i, 3)}}},
       {"role", res.value(i, 4)},
       {"action", res.value(i, 5)},
       {"method", res.value(i, 6)},
       {"path", res.value(i, 7)},
       {"request_id", res.value(i, 8)},
       {"status", std::stoi(std::string{res.value(i, 9)})},
       {"body", res.value(i, 10)}});
  json page{{"entries", entries}, {"next", nullptr}};
  if (res.rows() == limit)
    page["next"] = std::stoll(std::string{res.value(res.rows() - 1, 0)});
  return reply::done(page.dump());
}

} // namespace kassa::pg
