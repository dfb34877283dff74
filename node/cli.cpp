#include "node/cli.hpp"

namespace kassa {

std::string usage_text() {
  return "usage:\n"
         "  kassa serve   [--config FILE] [--http-port N] [--database-url "
         "URL]\n"
         "                [--node-id ID] [--cluster-port N] [--seeds "
         "host:port,...]\n"
         "  kassa migrate [--config FILE] [--database-url URL]\n"
         "  kassa keys create --name NAME --role "
         "admin|operator|service|read_only\n"
         "  kassa keys list\n"
         "  kassa keys revoke --id KEY_ID\n"
         "               (each also takes [--config FILE] [--database-url "
         "URL])\n"
         "  kassa version\n"
         "Every configuration key also has an environment twin: KASSA_ + the\n"
         "key upper-cased with dots as underscores (see config/README.md).\n";
}

command_line parse_command_line(const std::vector<std::string>& args,
                                std::vector<std::string> environment) {
  command_line result;
  result.sources.environment = std::move(environment);
  for (auto& entry : result.sources.environment)
    if (entry.rfind("KASSA_CONFIG=", 0) == 0)
      result.sources.file = entry.substr(13);
  if (args.size() < 2) {
    result.error = "missing command";
    return result;
  }
  result.command = args[1];
  if (result.command == "--help" || result.command == "-h")
    result.command = "help";
  if (result.command != "serve" && result.command != "migrate"
      && result.command != "keys" && result.command != "version"
      && result.command != "help") {
    result.error = "unknown command: " + result.command;
    return result;
  }
  size_t first_flag = 2;
  if (result.command == "keys") {
    if (args.size() < 3
        || (args[2] != "create" && args[2] != "list" && args[2] != "revoke")) {
      result.error = "keys: say create, list or revoke";
      return result;
    }
    result.subcommand = args[2];
    first_flag = 3;
  }
  for (size_t i = first_flag; i < args.size(); ++i) {
    auto arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      result.error = "unexpected argument: " + arg;
      return result;
    }
    std::string value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      result.error = arg + ": missing value";
      return result;
    }
    if (arg == "--config")
      result.sources.file = value;
    else if (result.command == "keys"
             && (arg == "--name" || arg == "--role" || arg == "--id"))
      result.options.emplace_back(arg.substr(2), value);
    else
      result.sources.flags.emplace_back(arg, value);
  }
  return result;
}

} // namespace kassa
