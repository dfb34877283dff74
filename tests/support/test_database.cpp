#include "support/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

#include "adapters/postgres/connection.hpp"

namespace kassa::test {

namespace {

void exec_admin(const std::string& url, const std::string& sql) {
  pg::connection conn;
  if (auto err = pg::connection::open(url, 5, conn))
    throw std::runtime_error("cannot reach the test database server: "
                             + err->message);
  if (auto err = conn.exec_script(sql))
    throw std::runtime_error(sql + ": " + err->message);
}

} // namespace

test_database::test_database(std::string admin_url)
  : admin_url_(std::move(admin_url)) {
  auto admin = std::getenv("TEST_PG_URL");
  if (admin_url_.empty() && (admin == nullptr || *admin == '\0'))
    throw std::runtime_error("TEST_PG_URL is not set: run the suite with "
                             "scripts/test (it starts PostgreSQL)");
  if (admin_url_.empty())
    admin_url_ = admin;
  static std::atomic<int> counter{0};
  name_
    = "kassa_t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  exec_admin(admin_url_, "DROP DATABASE IF EXISTS " + name_);
  exec_admin(admin_url_, "CREATE DATABASE " + name_);
  // Same server and user, another database: replace the path of the URI
  // (keeping its parameters, e.g. target_session_attrs).
  auto query = admin_url_.find('?');
  auto path_end = query == std::string::npos ? admin_url_.size() : query;
  auto slash = admin_url_.rfind('/', path_end);
  url_ = admin_url_.substr(0, slash + 1) + name_ + admin_url_.substr(path_end);
}

test_database::~test_database() {
  try {
    exec_admin(admin_url_,
               "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // Best effort: a leftover test database is harmless.
  }
}

std::string test_database::scalar(const std::string& sql) const {
  pg::connection conn;
  if (auto err = pg::connection::open(url_, 5, conn))
    throw std::runtime_error(err->message);
  pg::result res;
  if (auto err = conn.exec(sql, {}, res))
    throw std::runtime_error(sql + ": " + err->message);
  if (res.rows() == 0 || res.is_null(0, 0))
    return {};
  return std::string{res.value(0, 0)};
}

} // namespace kassa::test
