#include "adapters/postgres/migrations.hpp"

#include <cstdio>
#include <map>

#include "adapters/postgres/connection.hpp"

namespace kassa::pg {

namespace {

/// Key of the advisory lock held while migrating ("kassa" in ASCII).
constexpr const char* lock_key = "461195539297";

} // namespace

std::string migration_checksum(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(hash));
  return buf;
}

std::string apply_migrations(connection& conn,
                             const std::vector<migration>& migrations,
                             migration_report& report) {
  result res;
  if (auto err
      = conn.exec("SELECT pg_advisory_lock($1::bigint)", {lock_key}, res))
    return "cannot take the migration lock: " + err->message;
  auto unlock = [&] {
    result ignored;
    conn.exec("SELECT pg_advisory_unlock($1::bigint)", {lock_key}, ignored);
  };
  auto fail = [&](std::string reason) {
    conn.exec_script("ROLLBACK");
    unlock();
    return reason;
  };
  if (auto err
      = conn.exec_script("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version integer PRIMARY KEY,"
                         " name text NOT NULL,"
                         " checksum text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())"))
    return fail("cannot create schema_migrations: " + err->message);
  if (auto err = conn.exec("SELECT version, name, checksum FROM "
                           "schema_migrations ORDER BY version",
                           {}, res))
    return fail("cannot read schema_migrations: " + err->message);
  std::map<int, std::pair<std::string, std::string>> applied;
  for (int row = 0; row < res.rows(); ++row)
    applied[std::stoi(std::string{res.value(row, 0)})]
      = {std::string{res.value(row, 1)}, std::string{res.value(row, 2)}};
  for (auto& m : migrations) {
    auto checksum = migration_checksum(m.sql);
    if (auto i = applied.find(m.version); i != applied.end()) {
      if (i->second.second != checksum)
        return fail("migration " + m.name
                    + " was changed after it was applied (checksum "
                    + i->second.second + " in the database, " + checksum
                    + " in this binary); add a new migration instead");
      continue;
    }
    if (auto err = conn.exec_script("BEGIN"))
      return fail("cannot begin migration " + m.name + ": " + err->message);
    if (auto err = conn.exec_script(m.sql))
      return fail("migration " + m.name + " failed: " + err->message);
    if (auto err
        = conn.exec("INSERT INTO schema_migrations (version, name, "
                    "checksum) VALUES ($1, $2, $3)",
                    {std::to_string(m.version), m.name, checksum}, res))
      return fail("cannot record migration " + m.name + ": " + err->message);
    if (auto err = conn.exec_script("COMMIT"))
      return fail("cannot commit migration " + m.name + ": " + err->message);
    report.applied.push_back(m.name);
    applied[m.version] = {m.name, checksum};
  }
  report.schema_version = applied.empty() ? 0 : applied.rbegin()->first;
  unlock();
  return {};
}

} // namespace kassa::pg
