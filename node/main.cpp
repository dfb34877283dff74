// The composition root: the only code that knows every concrete type.

#include <iostream>
#include <string>
#include <vector>

#include "node/cli.hpp"
#include "node/config.hpp"
#include "node/key_command.hpp"
#include "node/serve.hpp"
#include "runtime/log.hpp"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    env.emplace_back(*e);
  auto cmd = kassa::parse_command_line(args, std::move(env));
  if (!cmd.error.empty()) {
    std::cerr << "kassa: " << cmd.error << "\n" << kassa::usage_text();
    return 2;
  }
  if (cmd.command == "help") {
    std::cout << kassa::usage_text();
    return 0;
  }
  if (cmd.command == "version") {
    std::cout << "kassa " << KASSA_VERSION << '\n';
    return 0;
  }
  auto loaded = kassa::load_config(cmd.sources);
  if (auto err = std::get_if<kassa::config_error>(&loaded)) {
    std::cerr << "kassa: invalid configuration: " << err->to_string() << '\n';
    return 2;
  }
  auto config = kassa::to_node_config(std::get<kassa::config_values>(loaded));
  kassa::log_level level = kassa::log_level::info;
  kassa::parse_log_level(config.log_level, level);
  kassa::logger log{level};
  try {
    if (cmd.command == "migrate")
      return kassa::migrate(config, log);
    if (cmd.command == "keys")
      return kassa::keys_command(config, cmd, std::cout, std::cerr);
    return kassa::serve(config, log);
  } catch (std::exception& e) {
    std::cerr << "kassa: fatal: " << e.what() << '\n';
    return 1;
  }
}
