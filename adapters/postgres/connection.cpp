#include "adapters/postgres/connection.hpp"

#include <libpq-fe.h>

#include "adapters/postgres/arrays.hpp"

namespace kassa::pg {

namespace {

error error_of(PGconn* conn, PGresult* res) {
  error err;
  if (res != nullptr) {
    if (auto state = PQresultErrorField(res, PG_DIAG_SQLSTATE))
      err.sqlstate = state;
    if (auto primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
      err.message = primary;
  }
  if (err.message.empty() && conn != nullptr)
    err.message = PQerrorMessage(conn);
  while (!err.message.empty()
         && (err.message.back() == '\n' || err.message.back() == ' '))
    err.message.pop_back();
  return err;
}

bool succeeded(PGresult* res) {
  auto status = PQresultStatus(res);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

} // namespace

std::string rfc3339_sql(std::string_view column) {
  return "to_char(" + std::string{column}
         + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

result::result(pg_result* res) : res_(res, PQclear) {
  // nop
}

int result::rows() const {
  return res_ ? PQntuples(res_.get()) : 0;
}

int result::columns() const {
  return res_ ? PQnfields(res_.get()) : 0;
}

bool result::is_null(int row, int col) const {
  return PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view result::value(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col),
          static_cast<size_t>(PQgetlength(res_.get(), row, col))};
}

long result::affected() const {
  if (!res_)
    return 0;
  auto text = PQcmdTuples(res_.get());
  return text && *text ? std::stol(text) : 0;
}

connection::connection(connection&& other) noexcept
  : conn_(other.conn_), by_key_only_(other.by_key_only_),
    prepared_(std::move(other.prepared_)), names_(other.names_) {
  other.conn_ = nullptr;
  other.by_key_only_ = false;
  other.prepared_.clear();
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr)
      PQfinish(conn_);
    conn_ = other.conn_;
    by_key_only_ = other.by_key_only_;
    prepared_ = std::move(other.prepared_);
    names_ = other.names_;
    other.conn_ = nullptr;
    other.by_key_only_ = false;
    other.prepared_.clear();
  }
  return *this;
}

connection::~connection() {
  if (conn_ != nullptr)
    PQfinish(conn_);
}

std::optional<error> connection::open(const std::string& url, int timeout_s,
                                      connection& out) {
  auto timeout = std::to_string(timeout_s);
  const char* keys[]
    = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url.c_str(), timeout.c_str(), "kassa", nullptr};
  auto conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr)
    return error{"", "out of memory while connecting to the database"};
  if (PQstatus(conn) != CONNECTION_OK) {
    auto err = error_of(conn, nullptr);
    PQfinish(conn);
    return err;
  }
  // Server notices ("relation already exists, skipping") are not errors and
  // must not break the JSON log lines on stderr.
  PQsetNoticeProcessor(
    conn, [](void*, const char*) {}, nullptr);
  out = connection{};
  out.conn_ = conn;
  return std::nullopt;
}

bool connection::ok() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

std::optional<error>
connection::exec(std::string_view sql,
                 const std::vector<std::optional<std::string>>& params,
                 result& out) {
  if (conn_ == nullptr)
    return error{"08003", "not connected"};
  std::string query{sql};
  std::vector<const char*> values;
  values.reserve(params.size());
  for (auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  pg_result* res = nullptr;
  bool prepare = false;
  auto name = statement_name(query, params.size(), prepare);
  if (prepare) {
    auto prep = PQprepare(conn_, name->c_str(), query.c_str(),
                          static_cast<int>(params.size()), nullptr);
    bool ok = prep != nullptr && PQresultStatus(prep) == PGRES_COMMAND_OK;
    if (prep != nullptr)
      PQclear(prep);
    if (ok)
      prepared_.emplace(query, *name);
    else
      name.reset();
  }
  if (name)
    res = PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                         values.data(), nullptr, nullptr, 0);
  else
    res = PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()),
                       nullptr, values.data(), nullptr, nullptr, 0);
  if (res == nullptr || !succeeded(res)) {
    auto err = error_of(conn_, res);
    if (res != nullptr)
      PQclear(res);
    return err;
  }
  out = result{res};
  return std::nullopt;
}

std::optional<std::string> connection::statement_name(const std::string& sql,
                                                      size_t params,
                                                      bool& prepare) {
  prepare = false;
  if (auto known = prepared_.find(sql); known != prepared_.end())
    return known->second;
  // Statements worth keeping: few parameters (multi-row inserts vary in
  // length) and a bounded number per connection — not those whose plan
  // depends on an array parameter's length (pg::joins_array_parameter).
  constexpr size_t max_prepared = 256;
  constexpr size_t max_params = 16;
  if (params > max_params || prepared_.size() >= max_prepared
      || !(by_key_only_ || keyed_ || !joins_array_parameter(sql)))
    return std::nullopt;
  prepare = true;
  return "k" + std::to_string(names_++);
}

void connection::drop() {
  if (conn_ != nullptr)
    PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
  keyed_ = false;
}

std::optional<error>
connection::exec_pipeline(const std::vector<statement>& statements,
                          std::vector<result>& out) {
  out.assign(statements.size(), result{});
  if (conn_ == nullptr)
    return error{"08003", "not connected"};
  if (PQenterPipelineMode(conn_) != 1)
    return error_of(conn_, nullptr);
  // What was sent, in order: each statement, after its PREPARE if new.
  struct sent {
    size_t statement;
    bool prepare;
    std::string name;
  };
  std::vector<sent> sends;
  // Prepared by this pipeline: a text seen twice is prepared once.
  std::unordered_map<std::string, std::string> preparing;
  bool sent_all = true;
  for (size_t i = 0; i < statements.size() && sent_all; ++i) {
    auto& st = statements[i];
    std::vector<const char*> values;
    values.reserve(st.params.size());
    for (auto& p : st.params)
      values.push_back(p ? p->c_str() : nullptr);
    auto nparams = static_cast<int>(st.params.size());
    bool prepare = false;
    std::optional<std::string> name;
    if (auto p = preparing.find(st.sql); p != preparing.end())
      name = p->second;
    else
      name = statement_name(st.sql, st.params.size(), prepare);
    if (prepare) {
      preparing.emplace(st.sql, *name);
      sent_all
        = PQsendPrepare(conn_, name->c_str(), st.sql.c_str(), nparams, nullptr)
          == 1;
      sends.push_back({i, true, *name});
    }
    if (sent_all)
      sent_all
        = (name ? PQsendQueryPrepared(conn_, name->c_str(), nparams,
                                      values.data(), nullptr, nullptr, 0)
                : PQsendQueryParams(conn_, st.sql.c_str(), nparams, nullptr,
                                    values.data(), nullptr, nullptr, 0))
          == 1;
    if (sent_all)
      sends.push_back({i, false, {}});
  }
  if (!sent_all || PQpipelineSync(conn_) != 1) {
    auto err = error_of(conn_, nullptr);
    drop(); // half a pipeline on the wire: start afresh
    return err;
  }
  std::optional<error> failed;
  for (auto& s : sends) {
    auto* res = PQgetResult(conn_);
    if (res == nullptr) { // the connection broke mid-pipeline
      auto err = error_of(conn_, nullptr);
      drop();
      return failed ? failed : err;
    }
    auto status = PQresultStatus(res);
    bool ok = s.prepare ? status == PGRES_COMMAND_OK : succeeded(res);
    if (ok && s.prepare) {
      prepared_.emplace(statements[s.statement].sql, s.name);
    } else if (ok) {
      out[s.statement] = result{res};
      res = nullptr;
    } else if (status != PGRES_PIPELINE_ABORTED && !failed) {
      failed = error_of(conn_, res); // the ones after it come back aborted
    }
    if (res != nullptr)
      PQclear(res);
    while ((res = PQgetResult(conn_)) != nullptr) // ends each statement
      PQclear(res);
  }
  auto* sync = PQgetResult(conn_);
  bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr)
    PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) {
    auto err = error_of(conn_, nullptr);
    drop();
    return failed ? failed : err;
  }
  return failed;
}

std::optional<error> connection::plan_by_key_only() {
  if (auto err = exec_script(
        "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off;"
        " SET enable_hashjoin = off; SET enable_mergejoin = off"))
    return err;
  by_key_only_ = true;
  return std::nullopt;
}

std::optional<error> connection::begin_keyed() {
  if (auto err = exec_script(
        "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan;"
        " SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off;"
        " SET LOCAL enable_mergejoin = off"))
    return err;
  keyed_ = true;
  return std::nullopt;
}

std::optional<error> connection::end_keyed(bool commit) {
  keyed_ = false;
  return exec_script(commit ? "COMMIT" : "ROLLBACK");
}

std::optional<error>
connection::begin_keyed_with(const std::vector<statement>& first,
                             std::vector<result>& out) {
  // begin_keyed's settings as one statement (a pipeline takes no
  // multi-statement strings); SET LOCAL is set_config(…, true).
  std::vector<statement> all{
    {"BEGIN", {}},
    {"SELECT set_config('plan_cache_mode', 'force_generic_plan', true),"
     " set_config('enable_seqscan', 'off', true),"
     " set_config('enable_hashjoin', 'off', true),"
     " set_config('enable_mergejoin', 'off', true)",
     {}}};
  all.insert(all.end(), first.begin(), first.end());
  keyed_ = true; // before `first` is prepared: array joins are planned once
  std::vector<result> results;
  auto err = exec_pipeline(all, results);
  out.assign(results.begin() + 2, results.end());
  return err;
}

std::optional<error> connection::commit_keyed_with(const statement& last,
                                                   result& out) {
  std::vector<result> results;
  auto err = exec_pipeline({last, {"COMMIT", {}}}, results);
  keyed_ = false;
  out = results[0];
  return err;
}

std::optional<error> connection::ping() {
  if (!ok())
    return error{"", "not connected"};
  return exec_script("SELECT 1");
}

std::optional<error> connection::exec_script(std::string_view sql) {
  if (conn_ == nullptr)
    return error{"08003", "not connected"};
  std::string query{sql};
  auto res = PQexec(conn_, query.c_str());
  if (res == nullptr || !succeeded(res)) {
    auto err = error_of(conn_, res);
    if (res != nullptr)
      PQclear(res);
    return err;
  }
  PQclear(res);
  return std::nullopt;
}

} // namespace kassa::pg
