#pragma once

// Adapter-private: a thin RAII layer over libpq. Blocking; used only on
// detached actors and in the `migrate` command, never on a CAF worker.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace kassa::pg {

/// SQL that renders a timestamptz column as RFC 3339 UTC with milliseconds.
std::string rfc3339_sql(std::string_view column);

/// A query result: text values, NULL as nullopt.
class result {
public:
  result() = default;
  explicit result(pg_result* res);

  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string_view value(int row, int col) const;
  /// Rows changed by INSERT/UPDATE/DELETE.
  long affected() const;

private:
  std::shared_ptr<pg_result> res_;
};

/// The error of a failed statement or connection.
struct error {
  std::string sqlstate; ///< e.g. "23505" for unique_violation; may be empty.
  std::string message;
};

/// One statement of a pipeline (connection::exec_pipeline).
struct statement {
  std::string sql;
  std::vector<std::optional<std::string>> params;
};

class connection {
public:
  connection() = default;
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Connects to `url` (libpq URI or conninfo), waiting at most
  /// `timeout_s` seconds.
  static std::optional<error> open(const std::string& url, int timeout_s,
                                   connection& out);

  bool ok() const;

  /// Runs one statement with text parameters ($1, $2, ...). Parameters that
  /// are nullopt are sent as NULL. A statement text seen before runs as a
  /// prepared statement of this connection (parsed and planned once: most
  /// of a short statement's server CPU); large or one-off texts (many
  /// parameters, e.g. multi-row inserts) are not kept.
  std::optional<error>
  exec(std::string_view sql,
       const std::vector<std::optional<std::string>>& params, result& out);

  /// Runs `statements` in ONE round trip (libpq pipeline mode), each as
  /// exec would run it (prepared when exec would prepare it); `out[i]` is
  /// statement i's result. The first failure is returned and the
  /// statements after it do not run. For a transaction's statements that
  /// do not depend on each other's answers: each round trip is a wake-up
  /// of this thread and of the server process.
  std::optional<error> exec_pipeline(const std::vector<statement>& statements,
                                     std::vector<result>& out);
  /// Runs one or more statements without parameters (migrations, BEGIN).
  std::optional<error> exec_script(std::string_view sql);

  /// One round trip to the server (`SELECT 1`): whether it answers.
  std::optional<error> ping();

  /// For a connection that only runs by-key statements (a batch writer's
  /// own): every statement, array joins too, is prepared and planned once,
  /// generically, with nested loops over index scans as the only way to
  /// run — the plan a batch of keys wants at any table size, so no
  /// statistics (a new database's first minute) can turn it into a scan of
  /// the table. Saves the parse and plan of every batch.
  std::optional<error> plan_by_key_only();

  /// Opens a transaction whose lookups are all by key (batch writers):
  /// index scans and nested loops only, and its statements — array joins
  /// too — prepared and planned once, generically, like plan_by_key_only's.
  /// Until autovacuum has analyzed a table (a new database under load: its
  /// first minute) the planner assumes 0.5 % of the rows match each key, so
  /// a batch of 40 keys "matches" a fifth of the table and it scans the
  /// whole table — measured: 125 scans of 8,000 `reservations` rows in 2 s
  /// of a bench run. One round trip, like a plain BEGIN.
  std::optional<error> begin_keyed();

  /// Ends the transaction begin_keyed opened: COMMIT, or ROLLBACK when
  /// `commit` is false.
  std::optional<error> end_keyed(bool commit);
  /// begin_keyed, then `first` in the same round trip (exec_pipeline;
  /// `out[i]` is the result of `first[i]`). After a failure the transaction
  /// may be open: end it with end_keyed(false).
  std::optional<error> begin_keyed_with(const std::vector<statement>& first,
                                        std::vector<result>& out);
  /// `last`, then COMMIT, in one round trip. After a failure the
  /// transaction may be open: end it with end_keyed(false).
  std::optional<error> commit_keyed_with(const statement& last, result& out);

private:
  /// The prepared statement to run `sql` as, if exec would prepare it;
  /// `prepare` is set when it is not prepared yet (under the name returned).
  std::optional<std::string> statement_name(const std::string& sql,
                                            size_t params, bool& prepare);
  /// Drops the connection after a protocol failure (reopened by the owner).
  void drop();

  pg_conn* conn_ = nullptr;
  bool by_key_only_ = false;
  bool keyed_ = false; ///< inside begin_keyed's transaction
  /// Statement text → prepared statement name, per connection.
  std::unordered_map<std::string, std::string> prepared_;
  uint64_t names_ = 0; ///< prepared statement names handed out
};

} // namespace kassa::pg
