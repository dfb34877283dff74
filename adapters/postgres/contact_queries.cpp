#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/idempotency.hpp"
#include "adapters/postgres/message_store.hpp"

// The contact service's templates and opt-outs (migration 0021), beside
// the outbox of message_store.cpp.

namespace kassa::pg {

namespace {

using json = nlohmann::json;

} // namespace

reply create_template(connection& conn, const std::string& name,
                      const std::string& locale, const std::string& subject,
                      const std::string& body) {
  result res;
  // Two writers of the same template: one gets the primary key's
  // conflict, and the caller sends again.
  if (auto err = conn.exec(
        "INSERT INTO message_templates (name, locale, version, subject, body) "
        "SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4 FROM "
        "message_templates WHERE name = $1 AND locale = $2 RETURNING "
        "name, locale, version, subject, body, "
          + rfc3339_sql("created_at"),
        {name, locale, subject, body}, res))
    return err->sqlstate == "23505"
             ? reply::fail(failure_code::invalid_field,
                           "another version of " + name
                             + " was stored meanwhile; send it again",
                           "name")
             : database_failure(err->message);
  return reply::created(json{
    {"name", res.value(0, 0)},
    {"locale", res.value(0, 1)},
    {"version", std::stoi(std::string{res.value(0, 2)})},
    {"subject", res.value(0, 3)},
    {"body", res.value(0, 4)},
    {"created_at",
     res.value(0, 5)}}.dump());
}

reply read_template(connection& conn, const std::string& name) {
  result res;
  if (auto err = conn.exec("SELECT locale, version, subject, body, "
                             + rfc3339_sql("created_at")
                             + " FROM message_templates WHERE name = $1 "
                               "ORDER BY locale, version DESC",
                           {name}, res))
    return database_failure(err->message);
  if (res.rows() == 0)
    return reply::fail(failure_code::template_not_found, "no template " + name);
  json versions = json::array();
  for (int i = 0; i < res.rows(); ++i)
    versions.push_back({{"locale", res.value(i, 0)},
                        {"version", std::stoi(std::string{res.value(i, 1)})},
                        {"subject", res.value(i, 2)},
                        {"body", res.value(i, 3)},
                        {"created_at", res.value(i, 4)}});
  return reply::done(json{{"name", name}, {"versions", versions}}.dump());
}

reply set_opt_out(connection& conn, const std::string& customer,
                  const std::string& channel, bool opted_out) {
  result res;
  auto sql = opted_out ? "INSERT INTO contact_opt_outs (customer, channel) "
                         "VALUES ($1, $2) ON CONFLICT DO NOTHING"
                       : "DELETE FROM contact_opt_outs WHERE customer = $1 "
                         "AND channel = $2";
  if (auto err = conn.exec(sql, {customer, channel}, res))
    return database_failure(err->message);
  return list_opt_outs(conn, customer);
}

reply list_opt_outs(connection& conn, const std::string& customer) {
  result res;
  if (auto err = conn.exec("SELECT channel FROM contact_opt_outs WHERE "
                           "customer = $1 ORDER BY channel",
                           {customer}, res))
    return database_failure(err->message);
  json channels = json::array();
  for (int i = 0; i < res.rows(); ++i)
    channels.push_back(res.value(i, 0));
  return reply::done(
    json{{"customer", customer}, {"opted_out", channels}}.dump());
}

} // namespace kassa::pg
