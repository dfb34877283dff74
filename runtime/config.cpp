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

namespace {

const config_key* find_key(std::string_view key) {
  for (auto& k : config_schema())
    if (k.key == key)
      return &k;
  return nullptr;
}

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

void flatten(const nlohmann::json& j, const std::string& prefix,
             std::vector<std::pair<std::string, const nlohmann::json*>>& out) {
  for (auto& [name, value] : j.items()) {
    std::string path = prefix;
    if (!path.empty())
      path += '.';
    path += name;
    // An object is a section unless the path is itself a key.
    if (value.is_object() && find_key(path) == nullptr)
      flatten(value, path, out);
    else
      out.emplace_back(path, &value);
  }
}

config_values defaults() {
  config_values result;
  for (auto& key : config_schema()) {
    config_value value;
    auto err = parse_config_text(key, key.default_value, value);
    if (err) // A bad default is a programming error caught by the unit tests.
      throw std::logic_error("bad default: " + err->to_string());
    result.set(key.key, std::move(value), "default");
  }
  return result;
}

std::optional<config_error> apply_json(config_values& values,
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
  flatten(j, "", entries);
  for (auto& [path, value] : entries) {
    auto key = find_key(path);
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

/// Every integer key of providers.*, by its name after "providers.".
const std::vector<std::pair<std::string_view, int64_t provider_policy::*>>&
policy_fields() {
  using pp = provider_policy;
  static const std::vector<std::pair<std::string_view, int64_t pp::*>> fields
    = {{"max_in_flight", &pp::max_in_flight},
       {"min_in_flight", &pp::min_in_flight},
       {"slow_call_ms", &pp::slow_call_ms},
       {"rate_per_s", &pp::rate_per_s},
       {"burst", &pp::burst},
       {"call_timeout_ms", &pp::call_timeout_ms},
       {"max_attempts", &pp::max_attempts},
       {"retry_initial_ms", &pp::retry_initial_ms},
       {"retry_max_ms", &pp::retry_max_ms},
       {"retry_deadline_ms", &pp::retry_deadline_ms},
       {"breaker_failure_percent", &pp::breaker_failure_percent},
       {"breaker_min_calls", &pp::breaker_min_calls},
       {"breaker_window_ms", &pp::breaker_window_ms},
       {"breaker_open_ms", &pp::breaker_open_ms},
       {"breaker_probes", &pp::breaker_probes},
       {"breaker_slow_percent", &pp::breaker_slow_percent},
       {"ramp_step_ms", &pp::ramp_step_ms}};
  return fields;
}

/// One providers.overrides entry split and checked: the connection, the
/// field and its value (within the range of the providers.* key).
struct policy_override {
  std::string connection;
  int64_t provider_policy::*field = nullptr;
  int64_t value = 0;
};

std::variant<policy_override, config_error>
parse_override(std::string_view entry) {
  auto bad = [&](std::string why) {
    return config_error{"providers.overrides",
                        "\"" + std::string{entry} + "\": " + why};
  };
  auto eq = entry.find('=');
  auto dot = entry.substr(0, eq).rfind('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos)
    return bad("must be <connection>.<key>=<value>");
  policy_override out;
  out.connection = std::string{entry.substr(0, dot)};
  auto key = entry.substr(dot + 1, eq - dot - 1);
  auto& names = provider_connection_names();
  if (std::find(names.begin(), names.end(), out.connection) == names.end())
    return bad("unknown connection " + out.connection);
  for (auto& [name, field] : policy_fields())
    if (name == key)
      out.field = field;
  if (out.field == nullptr)
    return bad("no integer key providers." + std::string{key});
  auto schema_key = find_key("providers." + std::string{key});
  config_value value;
  if (auto err = parse_config_text(*schema_key, entry.substr(eq + 1), value))
    return bad(err->message);
  out.value = std::get<int64_t>(value);
  return out;
}

/// What one key cannot check alone: each override's parts.
std::optional<config_error> check_values(const config_values& values) {
  for (auto& entry : values.get_list("providers.overrides")) {
    auto parsed = parse_override(entry);
    if (auto err = std::get_if<config_error>(&parsed))
      return *err;
  }
  return std::nullopt;
}

} // namespace

const std::vector<std::string_view>& provider_connection_names() {
  static const std::vector<std::string_view> names{
    "sandbox-payment",  "sandbox-invoicing",
    "sandbox-shipping", "sandbox-messaging",
    "stripe",           "billingo"};
  return names;
}

provider_policy node_config::policy_for(std::string_view name) const {
  provider_policy out = providers;
  for (auto& entry : providers.overrides) {
    auto parsed = parse_override(entry);
    if (auto o = std::get_if<policy_override>(&parsed);
        o && o->connection == name)
      out.*(o->field) = o->value;
  }
  return out;
}

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
                               std::string_view origin) {
  auto values = defaults();
  if (auto err = apply_json(values, json_text, origin))
    return *err;
  if (auto err = check_values(values))
    return *err;
  return values;
}

config_result load_config(const config_sources& sources) {
  auto values = defaults();
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
      if (auto err = apply_json(values, text.str(), path))
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
    for (auto& k : config_schema())
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
    for (auto& k : config_schema())
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
  if (auto err = check_values(values))
    return *err;
  return values;
}

node_config to_node_config(const config_values& v) {
  node_config c;
  c.node_id = v.get_string("node.id");
  c.http.bind = v.get_string("http.bind");
  c.http.port = static_cast<uint16_t>(v.get_int("http.port"));
  c.http.api_keys = v.get_list("http.api_keys");
  c.http.io_threads = static_cast<int>(v.get_int("http.io_threads"));
  c.http.body_limit_bytes
    = static_cast<uint64_t>(v.get_int("http.body_limit_bytes"));
  c.http.request_timeout_ms = v.get_int("http.request_timeout_ms");
  c.http.idle_timeout_ms = v.get_int("http.idle_timeout_ms");
  c.http.header_timeout_ms = v.get_int("http.header_timeout_ms");
  c.http.body_timeout_ms = v.get_int("http.body_timeout_ms");
  c.http.max_connections = v.get_int("http.max_connections");
  c.http.linger_ms = v.get_int("http.linger_ms");
  c.http.rate_limit_per_s = v.get_int("http.rate_limit_per_s");
  c.http.rate_limit_burst = v.get_int("http.rate_limit_burst");
  c.database.url = v.get_string("database.url");
  c.database.pool_size = static_cast<int>(v.get_int("database.pool_size"));
  c.database.connect_timeout_s
    = static_cast<int>(v.get_int("database.connect_timeout_s"));
  c.database.check_interval_ms = v.get_int("database.check_interval_ms");
  c.database.probe_max_ms = v.get_int("database.probe_max_ms");
  c.cluster.port = static_cast<uint16_t>(v.get_int("cluster.port"));
  c.cluster.seeds = v.get_list("cluster.seeds");
  c.scheduler.policy = v.get_string("scheduler.policy");
  c.scheduler.threads = static_cast<int>(v.get_int("scheduler.threads"));
  c.log_level = v.get_string("log.level");
  c.supervisor.max_restarts
    = static_cast<int>(v.get_int("supervisor.max_restarts"));
  c.supervisor.window_ms = v.get_int("supervisor.window_ms");
  c.supervisor.backoff_initial_ms = v.get_int("supervisor.backoff_initial_ms");
  c.supervisor.backoff_max_ms = v.get_int("supervisor.backoff_max_ms");
  c.shutdown_grace_ms = v.get_int("shutdown.grace_ms");
  c.shutdown_exit_timeout_ms = v.get_int("shutdown.exit_timeout_ms");
  c.debug_fault_switches = v.get_bool("debug.fault_switches");
  c.orders.call_timeout_ms = v.get_int("orders.call_timeout_ms");
  c.orders.max_attempts = v.get_int("orders.max_attempts");
  c.orders.max_compensation_attempts
    = v.get_int("orders.max_compensation_attempts");
  c.orders.retry_initial_ms = v.get_int("orders.retry_initial_ms");
  c.orders.retry_max_ms = v.get_int("orders.retry_max_ms");
  c.ws.max_queue_frames = v.get_int("ws.max_queue_frames");
  c.ws.max_frame_bytes = v.get_int("ws.max_frame_bytes");
  c.ws.idle_timeout_ms = v.get_int("ws.idle_timeout_ms");
  c.ws.send_buffer_bytes = v.get_int("ws.send_buffer_bytes");
  c.ws.io_threads = v.get_int("ws.io_threads");
  c.ws.customer_token_secret = v.get_string("ws.customer_token_secret");
  c.providers.ca_file = v.get_string("providers.ca_file");
  c.orders.payment_provider = v.get_string("orders.payment_provider");
  c.orders.max_active_sagas = v.get_int("orders.max_active_sagas");
  c.orders.resume_per_s = v.get_int("orders.resume_per_s");
  c.orders.max_revivals = v.get_int("orders.max_revivals");
  c.orders.sweep_interval_ms = v.get_int("orders.sweep_interval_ms");
  c.orders.invoicing_provider = v.get_string("orders.invoicing_provider");
  c.stripe.base_url = v.get_string("stripe.base_url");
  c.stripe.secret_key = v.get_string("stripe.secret_key");
  c.stripe.secret_key_file = v.get_string("stripe.secret_key_file");
  c.stripe.webhook_secret = v.get_string("stripe.webhook_secret");
  c.billingo.base_url = v.get_string("billingo.base_url");
  c.billingo.api_key = v.get_string("billingo.api_key");
  c.billingo.api_key_file = v.get_string("billingo.api_key_file");
  c.billingo.block_id = v.get_int("billingo.block_id");
  c.orders.three_ds_timeout_ms = v.get_int("orders.three_ds_timeout_ms");
  auto& p = c.providers;
  for (auto& [name, field] : policy_fields())
    p.*field = v.get_int("providers." + std::string{name});
  p.overrides = v.get_list("providers.overrides");
  c.jobs.poll_interval_ms = v.get_int("jobs.poll_interval_ms");
  c.jobs.lease_ms = v.get_int("jobs.lease_ms");
  c.jobs.max_attempts = v.get_int("jobs.max_attempts");
  c.jobs.retry_initial_ms = v.get_int("jobs.retry_initial_ms");
  c.jobs.retry_max_ms = v.get_int("jobs.retry_max_ms");
  return c;
}

} // namespace kassa
