#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The configuration machinery: typed keys, values with their sources, and
// loading from defaults, a JSON file, KASSA_* variables and flags. Which
// keys exist is the node's business (node/config.hpp).

namespace kassa {

// -- the schema ---------------------------------------------------------------

enum class config_type { integer, boolean, string, string_list };

/// One configuration key: the single source for defaults, validation, the
/// environment twin and the documentation (config/README.md is checked
/// against this table by a test).
struct config_key {
  std::string_view key; ///< Dotted path, e.g. "http.port".
  config_type type;
  std::string_view default_value; ///< As it would be written in the env twin.
  int64_t min = 0;                ///< Integers only.
  int64_t max = 0;                ///< Integers only.
  std::string_view choices;       ///< Strings only: "a|b|c", empty = any.
  std::string_view flag;          ///< Command-line flag, empty = none.
  std::string_view env_alias;     ///< Extra env name besides the twin (API.md).
  std::string_view description;
};

/// A schema: its keys, and the rules no single key can check (run after
/// every load; null = none).
struct config_definition {
  const std::vector<config_key>* keys = nullptr;
  std::function<std::optional<struct config_error>(const class config_values&)>
    check;
};

/// `http.port` → `KASSA_HTTP_PORT`.
std::string env_twin(std::string_view key);

// -- values -------------------------------------------------------------------

using config_value
  = std::variant<int64_t, bool, std::string, std::vector<std::string>>;

/// A validated set of values: every schema key has exactly one value.
class config_values {
public:
  int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  const std::vector<std::string>& get_list(std::string_view key) const;

  /// Where the value came from ("default", "file", "env KASSA_X", "--flag").
  const std::string& source(std::string_view key) const;

  void set(std::string_view key, config_value value, std::string source);

private:
  std::map<std::string, std::pair<config_value, std::string>, std::less<>>
    values_;
};

/// A configuration error names the key at fault.
struct config_error {
  std::string key;
  std::string message;

  /// "http.port: must be an integer ..." — what the node prints before exiting.
  std::string to_string() const;
};

/// Inputs of one load: the file (if any), the environment and the flags.
struct config_sources {
  /// Path from --config or KASSA_CONFIG; empty = use `default_file` if exists.
  std::string file;
  /// The documented default file, used when `file` is empty and it exists.
  std::string default_file = "config/kassa.json";
  /// Environment as "NAME=value" entries (only KASSA_* are looked at).
  std::vector<std::string> environment;
  /// Flags as {"--http-port", "9000"} pairs, already split by the CLI.
  std::vector<std::pair<std::string, std::string>> flags;
};

/// Result of a load: values, or the first error found.
using config_result = std::variant<config_values, config_error>;

/// Loads defaults, then the JSON file, then KASSA_* variables, then flags,
/// for the keys of `schema`. Unknown keys (in the file, KASSA_* names or
/// flags) and bad values are errors that name the key.
config_result load_config(const config_sources& sources,
                          const config_definition& schema);

/// Loads from a JSON text only (plus defaults); used by tests and tools.
config_result load_config_json(std::string_view json_text,
                               const config_definition& schema,
                               std::string_view origin = "file");

/// The key of `schema` named `key`, or null.
const config_key* find_config_key(const std::vector<config_key>& schema,
                                  std::string_view key);

/// Parses `text` as a value of `key`'s type (env/flag syntax: lists are
/// comma separated, booleans 1/0/true/false/yes/no/on/off).
std::optional<config_error> parse_config_text(const config_key& key,
                                              std::string_view text,
                                              config_value& out);

} // namespace kassa
