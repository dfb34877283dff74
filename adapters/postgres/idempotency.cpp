#include "adapters/postgres/idempotency.hpp"

#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

api_response database_failure(const std::string& message) {
  return database_unavailable(message);
}

api_response
run_idempotent(connection& conn, const idempotency& idem,
               const std::function<api_response(connection&)>& mutation) {
  if (!conn.ok())
    return database_failure("not connected");
  auto rollback = [&](api_response r) {
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
      if (auto err = conn.exec("SELECT request_hash, status, response FROM "
                               "idempotency_keys WHERE scope = $1 AND key = $2",
                               {idem.scope, idem.key}, res))
        return database_failure(err->message);
      if (res.rows() == 0)
        return database_failure("idempotency record vanished");
      if (res.value(0, 0) != idem.request_hash)
        return error_response(422, "idempotency_key_reused",
                              "this Idempotency-Key was used with a "
                              "different request",
                              "Idempotency-Key");
      api_response replay;
      replay.status = std::stoi(std::string{res.value(0, 1)});
      replay.body = std::string{res.value(0, 2)};
      replay.headers.emplace_back("Idempotent-Replayed", "true");
      return replay;
    }
    if (auto err = conn.exec_script("SAVEPOINT mutation"))
      return rollback(database_failure(err->message));
  }
  auto answer = mutation(conn);
  if (answer.status >= 500)
    return rollback(std::move(answer));
  if (!idem.key.empty()) {
    if (answer.status >= 400)
      if (auto err = conn.exec_script("ROLLBACK TO SAVEPOINT mutation"))
        return rollback(database_failure(err->message));
    if (auto err = conn.exec(
          "UPDATE idempotency_keys SET status = $3, "
          "response = $4 WHERE scope = $1 AND key = $2",
          {idem.scope, idem.key, std::to_string(answer.status), answer.body},
          res))
      return rollback(database_failure(err->message));
  } else if (answer.status >= 400) {
    return rollback(std::move(answer));
  }
  if (auto err = conn.exec_script("COMMIT"))
    return conn.ok() ? database_failure(err->message)
                     : commit_outcome_unknown(err->message);
  return answer;
}

} // namespace kassa::pg
