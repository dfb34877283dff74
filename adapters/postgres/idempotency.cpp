#include "adapters/postgres/idempotency.hpp"

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

reply database_failure(const std::string& message) {
  return database_unavailable(message);
}

bool is_transient(const reply& r) {
  return r.failed()
         && (r.error.code == failure_code::database_unavailable
             || r.error.code == failure_code::commit_outcome_unknown
             || r.error.code == failure_code::not_owner
             || r.error.code == failure_code::internal);
}

std::pair<std::string, std::string> stored_form(const reply& r) {
  if (!r.failed())
    return {std::string{to_string(r.what)}, r.body};
  nlohmann::json j{{"message", r.error.message}};
  if (!r.error.field.empty())
    j["field"] = r.error.field;
  return {std::string{to_string(r.error.code)}, j.dump()};
}

reply from_stored(std::string_view outcome, std::string_view response) {
  reply r;
  if (outcome == "done")
    r = reply::done(std::string{response});
  else if (outcome == "created")
    r = reply::created(std::string{response});
  else if (outcome == "accepted")
    r = reply::accepted(std::string{response});
  else {
    auto j = nlohmann::json::parse(response, nullptr, false);
    auto text = [&](const char* key) {
      return j.is_object() && j.contains(key) && j[key].is_string()
               ? j[key].get<std::string>()
               : std::string{};
    };
    r = reply::fail(
      failure_code_from_string(outcome).value_or(failure_code::internal),
      text("message"), text("field"));
  }
  r.replayed = true;
  return r;
}

reply run_idempotent(connection& conn, const idempotency& idem,
                     const std::function<reply(connection&)>& mutation) {
  if (!conn.ok())
    return database_failure("not connected");
  auto rollback = [&](reply r) {
    conn.exec_script("ROLLBACK");
    return r;
  };
  if (auto err = conn.exec_script("BEGIN"))
    return database_failure(err->message);
  result res;
  if (!idem.key.empty()) {
    if (auto err
        = conn.exec("INSERT INTO idempotency_keys (scope, key, request_hash) "
                    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    {idem.scope, idem.key, idem.request_hash}, res))
      return rollback(database_failure(err->message));
    if (res.affected() == 0) {
      // Seen before (and committed): replay or refuse.
      conn.exec_script("ROLLBACK");
      if (auto err = conn.exec("SELECT request_hash, outcome, response FROM "
                               "idempotency_keys WHERE scope = $1 AND key = $2",
                               {idem.scope, idem.key}, res))
        return database_failure(err->message);
      if (res.rows() == 0)
        return database_failure("idempotency record vanished");
      if (res.value(0, 0) != idem.request_hash)
        return reply::fail(failure_code::idempotency_key_reused,
                           "this Idempotency-Key was used with a "
                           "different request",
                           "Idempotency-Key");
      return from_stored(res.value(0, 1), res.value(0, 2));
    }
    if (auto err = conn.exec_script("SAVEPOINT mutation"))
      return rollback(database_failure(err->message));
  }
  auto answer = mutation(conn);
  if (is_transient(answer))
    return rollback(std::move(answer));
  if (!idem.key.empty()) {
    if (answer.failed())
      if (auto err = conn.exec_script("ROLLBACK TO SAVEPOINT mutation"))
        return rollback(database_failure(err->message));
    auto [outcome, response] = stored_form(answer);
    if (auto err = conn.exec("UPDATE idempotency_keys SET outcome = $3, "
                             "response = $4 WHERE scope = $1 AND key = $2",
                             {idem.scope, idem.key, outcome, response}, res))
      return rollback(database_failure(err->message));
  } else if (answer.failed()) {
    return rollback(std::move(answer));
  }
  if (auto err = conn.exec_script("COMMIT"))
    return conn.ok() ? database_failure(err->message)
                     : commit_outcome_unknown(err->message);
  return answer;
}

} // namespace kassa::pg
