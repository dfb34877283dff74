#include "node/cli.hpp"

namespace kassa {

std::string usage_text() {
  return "usage:\n"
         "  kassa serve   [--config FILE] [--http-port N] [--database-url "
         "URL]\n"
         "                [--node-id ID] [--cluster-port N] [--seeds "
         "host:port,...]\n"
         "  kassa migrate [--config FILE] [--database-url URL]\n"
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
      && result.command != "version" && result.command != "help") {
    result.error = "unknown command: " + result.command;
    return result;
  }
  for (size_t i = 2; i < args.size(); ++i) {
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
    else
      result.sources.flags.emplace_back(arg, value);
  }
  return result;
}

} // namespace kassa
