#pragma once

#include <cstdint>
#include <string>

namespace kassa::test {

/// A PostgreSQL server of one test's own (scripts/pg with PG_DATA and
/// PG_PORT set), which the test may stop and start: a database outage that
/// leaves the suite's shared server (and the tests running beside this one)
/// alone. Removed with its data at the end.
class private_postgres {
public:
  /// A new server; with `primary`, a streaming standby of it (a base
  /// backup, then replication) that promote() makes the primary.
  explicit private_postgres(const private_postgres* primary = nullptr);
  ~private_postgres();
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// Starts the server (initdb the first time); throws if it does not come up.
  void start();
  /// Stops it (`pg_ctl stop -m fast`: every session is cut).
  void stop();
  /// Makes a standby the primary (`pg_ctl promote`): a failover.
  void promote();

  /// Admin URL (database `kassa`); test_database takes it.
  std::string admin_url() const;
  uint16_t port() const {
    return port_;
  }

private:
  void run(const std::string& command) const;

  std::string dir_;
  uint16_t port_ = 0;
  uint16_t primary_port_ = 0; ///< 0: not a standby
};

} // namespace kassa::test
