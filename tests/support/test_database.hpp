#pragma once

#include <string>

namespace kassa::test {

/// A fresh database per test on the private PostgreSQL that scripts/test
/// starts (admin URL in TEST_PG_URL), or on the server at `admin_url`;
/// dropped again at the end.
class test_database {
public:
  explicit test_database(std::string admin_url = {});
  ~test_database();
  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  const std::string& url() const {
    return url_;
  }

  /// Runs a query and returns the first column of the first row ("" if none).
  std::string scalar(const std::string& sql) const;

private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

} // namespace kassa::test
