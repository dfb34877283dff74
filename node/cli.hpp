#pragma once

#include <string>
#include <utility>
#include <vector>

#include "node/config.hpp"

namespace kassa {

/// A parsed command line: `kassa <command> [--flag value | --flag=value]...`.
struct command_line {
  std::string command; ///< serve | migrate | keys | version | help
  /// `keys`: create | list | revoke, and its --name / --role / --id.
  std::string subcommand;
  std::vector<std::pair<std::string, std::string>> options;
  config_sources sources;
  std::string error; ///< Non-empty: a usage error to print (exit 2).
};

/// Parses argv; `environment` is the process environment ("NAME=value").
command_line parse_command_line(const std::vector<std::string>& args,
                                std::vector<std::string> environment);

/// The usage text printed by `kassa help` and on a usage error.
std::string usage_text();

} // namespace kassa
