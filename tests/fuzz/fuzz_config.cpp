// libFuzzer target: the configuration loader — a JSON file's text checked
// against the schema, then turned into the node's typed view, the way a
// node starts.

#include <string_view>
#include <variant>

#include "node/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kassa;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto loaded = load_config_json(text);
  if (auto values = std::get_if<config_values>(&loaded))
    (void)to_node_config(*values);
  else
    (void)std::get<config_error>(loaded).to_string();
  return 0;
}
