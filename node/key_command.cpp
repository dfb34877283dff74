#include "node/key_command.hpp"

#include <ostream>

#include <nlohmann/json.hpp>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/key_queries.hpp"
#include "adapters/postgres/migrations.hpp"
#include "node/cli.hpp"
#include "node/config.hpp"

namespace kassa {

namespace {

std::string option(const command_line& cmd, const std::string& name) {
  for (auto& [key, value] : cmd.options)
    if (key == name)
      return value;
  return {};
}

} // namespace

int keys_command(const node_config& config, const command_line& cmd,
                 std::ostream& out, std::ostream& err) {
  auto name = option(cmd, "name");
  auto role = key_role_from_string(option(cmd, "role"));
  auto id = option(cmd, "id");
  if (cmd.subcommand == "create" && (name.empty() || name.size() > 100)) {
    err << "kassa keys create: --name NAME (1 to 100 characters) is required\n";
    return 2;
  }
  if (cmd.subcommand == "create" && !role) {
    err << "kassa keys create: --role must be one of admin, operator, "
           "service, read_only\n";
    return 2;
  }
  if (cmd.subcommand == "revoke" && id.empty()) {
    err << "kassa keys revoke: --id KEY_ID is required\n";
    return 2;
  }
  if (config.database.url.empty()) {
    err << "kassa keys: database.url: required (set KASSA_DATABASE_URL or "
           "--database-url)\n";
    return 2;
  }
  pg::connection conn;
  if (auto e = pg::connection::open(config.database.url,
                                    config.database.connect_timeout_s, conn)) {
    err << "kassa keys: database unreachable: " << e->message << '\n';
    return 1;
  }
  pg::migration_report report;
  if (auto failure
      = pg::apply_migrations(conn, pg::embedded_migrations(), report);
      !failure.empty()) {
    err << "kassa keys: " << failure << '\n';
    return 1;
  }
  auto result = cmd.subcommand == "create"   ? pg::create_key(conn, name, *role)
                : cmd.subcommand == "revoke" ? pg::revoke_key(conn, id)
                                             : pg::list_keys(conn);
  if (result.failed()) {
    err << "kassa keys " << cmd.subcommand << ": " << result.error.message
        << '\n';
    return result.error.code == failure_code::invalid_field ? 2 : 1;
  }
  out << nlohmann::json::parse(result.body).dump(2) << '\n';
  return 0;
}

} // namespace kassa
