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
    prepared_(std::move(other.prepared_)) {
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
  // Statements worth keeping: few parameters (multi-row inserts vary in
  // length) and a bounded number per connection — not those whose plan
  // depends on an array parameter's length (pg::joins_array_parameter).
  constexpr size_t max_prepared = 256;
  constexpr size_t max_params = 16;
  pg_result* res = nullptr;
  auto known = prepared_.find(query);
  if (known == prepared_.end() && params.size() <= max_params
      && prepared_.size() < max_prepared
      && (by_key_only_ || keyed_ || !joins_array_parameter(query))) {
    auto name = "k" + std::to_string(prepared_.size());
    auto prep = PQprepare(conn_, name.c_str(), query.c_str(),
                          static_cast<int>(params.size()), nullptr);
    bool ok = prep != nullptr && PQresultStatus(prep) == PGRES_COMMAND_OK;
    if (prep != nullptr)
      PQclear(prep);
    if (ok)
      known = prepared_.emplace(query, std::move(name)).first;
  }
  if (known != prepared_.end())
    res = PQexecPrepared(conn_, known->second.c_str(),
                         static_cast<int>(params.size()), values.data(),
                         nullptr, nullptr, 0);
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
