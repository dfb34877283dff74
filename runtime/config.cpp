#include "runtime/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "runtime/json_parse.hpp"

namespace kassa {

using ct = config_type;

std::string env_twin(std::string_view key) {
  std::string result = "KASSA_";
  for (char c : key)
    result += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return result;
}

// -- config_values ------------------------------------------------------------

namespace {

const std::pair<config_value, std::string>&
lookup(const std::map<std::string, std::pair<config_value, std::string>,
                      std::less<>>& values,
       std::string_view key) {
  auto i = values.find(key);
  if (i == values.end())
    throw std::logic_error("config key not in schema: " + std::string{key});
  return i->second;
}

} // namespace

int64_t config_values::get_int(std::string_view key) const {
  return std::get<int64_t>(lookup(values_, key).first);
}

bool config_values::get_bool(std::string_view key) const {
  return std::get<bool>(lookup(values_, key).first);
}

const std::string& config_values::get_string(std::string_view key) const {
  return std::get<std::string>(lookup(values_, key).first);
}

const std::vector<std::string>&
config_values::get_list(std::string_view key) const {
  return std::get<std::vector<std::string>>(lookup(values_, key).first);
}

const std::string& config_values::source(std::string_view key) const {
  return lookup(values_, key).second;
}

void config_values::set(std::string_view key, config_value value,
                        std::string source) {
  values_.insert_or_assign(std::string{key},
                           std::make_pair(std::move(value), std::move(source)));
}

std::string config_error::to_string() const {
  return key + ": " + message;
}

// -- parsing ------------------------------------------------------------------

const config_key* find_config_key(const std::vector<config_key>& schema,
                                  std::string_view key) {
  for (auto& k : schema)
    if (k.key == key)
      return &k;
  return nullptr;
}

namespace {

std::string describe(const config_key& key) {
  switch (key.type) {
    case ct::integer:
      return "an integer between " + std::to_string(key.min) + " and "
             + std::to_string(key.max);
    case ct::boolean:
      return "a boolean";
    case ct::string:
      if (!key.choices.empty())
        return "one of " + std::string{key.choices};
      return "a string";
    case ct::string_list:
      return "a list of strings";
  }
  return "a value";
}

std::optional<config_error> check_choice(const config_key& key,
                                         const std::string& value) {
  if (key.choices.empty())
    return std::nullopt;
  std::string_view rest = key.choices;
  while (!rest.empty()) {
    auto bar = rest.find('|');
    auto choice = rest.substr(0, bar);
    if (choice == value)
      return std::nullopt;
    rest = bar == std::string_view::npos ? std::string_view{}
                                         : rest.substr(bar + 1);
  }
  return config_error{std::string{key.key},
                      "must be " + describe(key) + " (got \"" + value + "\")"};
}

std::optional<config_error> check_range(const config_key& key, int64_t value) {
  if (value < key.min || value > key.max)
    return config_error{std::string{key.key}, "must be " + describe(key)
                                                + " (got "
                                                + std::to_string(value) + ")"};
  return std::nullopt;
}

std::optional<config_error> parse_json_value(const config_key& key,
                                             const nlohmann::json& j,
                                             config_value& out) {
  auto bad = [&] {
    return config_error{std::string{key.key},
                        "must be " + describe(key) + " (got " + j.dump() + ")"};
  };
  switch (key.type) {
    case ct::integer:
      if (!j.is_number_integer())
        return bad();
      out = j.get<int64_t>();
      return check_range(key, std::get<int64_t>(out));
    case ct::boolean:
      if (!j.is_boolean())
        return bad();
      out = j.get<bool>();
      return std::nullopt;
    case ct::string:
      if (!j.is_string())
        return bad();
      out = j.get<std::string>();
      return check_choice(key, std::get<std::string>(out));
    case ct::string_list: {
      if (!j.is_array())
        return bad();
      std::vector<std::string> items;
      for (auto& item : j) {
        if (!item.is_string() || item.get<std::string>().empty())
          return bad();
        items.push_back(item.get<std::string>());
      }
      out = std::move(items);
      return std::nullopt;
    }
  }
  return bad();
}

void flatten(const std::vector<config_key>& schema, const nlohmann::json& j,
             const std::string& prefix,
             std::vector<std::pair<std::string, const nlohmann::json*>>& out) {
  for (auto& [name, value] : j.items()) {
    std::string path = prefix;
    if (!path.empty())
      path += '.';
    path += name;
    // An object is a section unless the path is itself a key.
    if (value.is_object() && find_config_key(schema, path) == nullptr)
      flatten(schema, value, path, out);
    else
      out.emplace_back(path, &value);
  }
}

config_values defaults(const std::vector<config_key>& schema) {
  config_values result;
  for (auto& key : schema) {
    config_value value;
    auto err = parse_config_text(key, key.default_value, value);
    if (err) // A bad default is a programming error caught by the unit tests.
      throw std::logic_error("bad default: " + err->to_string());
    result.set(key.key, std::move(value), "default");
  }
  return result;
}

std::optional<config_error> apply_json(const std::vector<config_key>& schema,
                                       config_values& values,
                                       std::string_view text,
                                       std::string_view origin) {
  nlohmann::json j;
  if (auto problem = parse_json(text, j, 16))
    return config_error{
      std::string{origin},
      "is not valid JSON: "
        + (problem->field.empty() ? std::string{} : problem->field + ": ")
        + problem->message};
  if (!j.is_object())
    return config_error{std::string{origin}, "must hold a JSON object"};
  std::vector<std::pair<std::string, const nlohmann::json*>> entries;
  flatten(schema, j, "", entries);
  for (auto& [path, value] : entries) {
    auto key = find_config_key(schema, path);
    if (key == nullptr)
      return config_error{path, "unknown configuration key (in "
                                  + std::string{origin} + ")"};
    config_value parsed;
    if (auto err = parse_json_value(*key, *value, parsed))
      return err;
    values.set(path, std::move(parsed), std::string{origin});
  }
  return std::nullopt;
}

} // namespace

std::optional<config_error> parse_config_text(const config_key& key,
                                              std::string_view text,
                                              config_value& out) {
  auto bad = [&] {
    return config_error{std::string{key.key}, "must be " + describe(key)
                                                + " (got \"" + std::string{text}
                                                + "\")"};
  };
  switch (key.type) {
    case ct::integer: {
      int64_t value = 0;
      auto [ptr, ec]
        = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty())
        return bad();
      out = value;
      return check_range(key, value);
    }
    case ct::boolean: {
      std::string lower;
      for (char c : text)
        lower += static_cast<char>(std::tolower(c));
      if (lower == "1" || lower == "true" || lower == "yes" || lower == "on")
        out = true;
      else if (lower == "0" || lower == "false" || lower == "no"
               || lower == "off")
        out = false;
      else
        return bad();
      return std::nullopt;
    }
    case ct::string:
      out = std::string{text};
      return check_choice(key, std::get<std::string>(out));
    case ct::string_list: {
      std::vector<std::string> items;
      std::string_view rest = text;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        while (!item.empty()
               && std::isspace(static_cast<unsigned char>(item.front())))
          item.remove_prefix(1);
        while (!item.empty()
               && std::isspace(static_cast<unsigned char>(item.back())))
          item.remove_suffix(1);
        if (item.empty())
          return bad();
        items.emplace_back(item);
        rest = comma == std::string_view::npos ? std::string_view{}
                                               : rest.substr(comma + 1);
      }
      out = std::move(items);
      return std::nullopt;
    }
  }
  return bad();
}

config_result load_config_json(std::string_view json_text,
                               const config_definition& schema,
                               std::string_view origin) {
  auto values = defaults(*schema.keys);
  if (auto err = apply_json(*schema.keys, values, json_text, origin))
    return *err;
  if (schema.check)
    if (auto err = schema.check(values))
      return *err;
  return values;
}

config_result load_config(const config_sources& sources,
                          const config_definition& schema) {
  auto values = defaults(*schema.keys);
  // 1. The file.
  auto path = sources.file;
  bool explicit_file = !path.empty();
  if (!explicit_file)
    path = sources.default_file;
  if (!path.empty()) {
    std::ifstream in{path};
    if (!in) {
      if (explicit_file)
        return config_error{"config", "cannot read config file " + path};
    } else {
      std::stringstream text;
      text << in.rdbuf();
      if (auto err = apply_json(*schema.keys, values, text.str(), path))
        return *err;
    }
  }
  // 2. KASSA_* environment variables.
  for (auto& entry : sources.environment) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || entry.compare(0, 6, "KASSA_") != 0)
      continue;
    auto name = entry.substr(0, eq);
    auto text = std::string_view{entry}.substr(eq + 1);
    if (name == "KASSA_CONFIG")
      continue;
    const config_key* key = nullptr;
    for (auto& k : *schema.keys)
      if (env_twin(k.key) == name
          || (!k.env_alias.empty() && k.env_alias == name))
        key = &k;
    if (key == nullptr)
      return config_error{name, "unknown configuration variable (no key "
                                "maps to it; see config/README.md)"};
    config_value parsed;
    if (auto err = parse_config_text(*key, text, parsed)) {
      err->message += " from " + name;
      return *err;
    }
    values.set(key->key, std::move(parsed), "env " + name);
  }
  // 3. Flags.
  for (auto& [flag, text] : sources.flags) {
    const config_key* key = nullptr;
    for (auto& k : *schema.keys)
      if (!k.flag.empty() && k.flag == flag)
        key = &k;
    if (key == nullptr)
      return config_error{flag, "unknown flag"};
    config_value parsed;
    if (auto err = parse_config_text(*key, text, parsed)) {
      err->message += " from " + flag;
      return *err;
    }
    values.set(key->key, std::move(parsed), flag);
  }
  if (schema.check)
    if (auto err = schema.check(values))
      return *err;
  return values;
}

} // namespace kassa
