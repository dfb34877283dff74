#include "node/config.hpp"

#include <algorithm>
#include <variant>

#include "actors/billing_calendar.hpp"
#include "actors/payment_routing.hpp"
#include "runtime/hmac.hpp"

namespace kassa {

namespace {

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
  auto schema_key
    = find_config_key(config_schema(), "providers." + std::string{key});
  config_value value;
  if (auto err = parse_config_text(*schema_key, entry.substr(eq + 1), value))
    return bad(err->message);
  out.value = std::get<int64_t>(value);
  return out;
}

/// What one key cannot check alone: each override's parts; renewals well
/// inside a lease.
/// Whether `text` is host:port with a port of 1 to 65535.
bool is_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()
      || text.size() - colon - 1 > 5)
    return false;
  int port = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

std::optional<config_error> check_values(const config_values& values) {
  for (auto& entry : values.get_list("providers.overrides")) {
    auto parsed = parse_override(entry);
    if (auto err = std::get_if<config_error>(&parsed))
      return *err;
  }
  if (values.get_int("cluster.renew_ms") * 2
      > values.get_int("cluster.lease_ms"))
    return config_error{"cluster.renew_ms",
                        "must be at most half of cluster.lease_ms (a lease "
                        "must survive one late renewal)"};
  auto advertise = values.get_string("cluster.advertise");
  if (!advertise.empty() && !is_host_port(advertise))
    return config_error{"cluster.advertise",
                        "must be host:port (port 1 to 65535), got "
                          + advertise};
  for (auto& seed : values.get_list("cluster.seeds"))
    if (!is_host_port(seed))
      return config_error{"cluster.seeds",
                          "each seed must be host:port (port 1 to 65535), "
                          "got "
                            + seed};
  {
    int set = 0;
    for (auto key :
         {"cluster.tls_certificate", "cluster.tls_key", "cluster.tls_ca"})
      set += values.get_string(key).empty() ? 0 : 1;
    if (set != 0 && set != 3)
      return config_error{"cluster.tls_certificate",
                          "cluster.tls_certificate, cluster.tls_key and "
                          "cluster.tls_ca go together (all three or none)"};
  }
  for (auto& entry : values.get_list("payments.routes")) {
    auto parsed = parse_payment_route(entry, payment_processor_names());
    if (auto why = std::get_if<std::string>(&parsed))
      return config_error{"payments.routes", "\"" + entry + "\": " + *why};
  }
  if (auto key = values.get_string("adyen.hmac_key");
      !key.empty() && !bytes_from_hex(key))
    return config_error{"adyen.hmac_key",
                        "must be the hex key Adyen shows (an even number of "
                        "hex digits)"};
  std::string why;
  if (!parse_dunning_schedule(
        values.get_string("subscriptions.dunning_schedule"), why))
    return config_error{"subscriptions.dunning_schedule", why};
  if (values.get_int("cluster.link_timeout_ms")
      < 2 * values.get_int("cluster.heartbeat_ms"))
    return config_error{"cluster.link_timeout_ms",
                        "must be at least twice cluster.heartbeat_ms (one "
                        "late heartbeat must not cut a link)"};
  return std::nullopt;
}

} // namespace

const config_definition& node_config_definition() {
  static const config_definition definition{&config_schema(), check_values};
  return definition;
}

config_result load_config(const config_sources& sources) {
  return load_config(sources, node_config_definition());
}

config_result load_config_json(std::string_view json_text,
                               std::string_view origin) {
  return load_config_json(json_text, node_config_definition(), origin);
}

const std::vector<std::string_view>& provider_connection_names() {
  static const std::vector<std::string_view> names{
    "sandbox-payment",  "sandbox-invoicing",
    "sandbox-shipping", "sandbox-messaging",
    "stripe",           "adyen",
    "billingo"};
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
  c.http.key_refresh_ms = v.get_int("http.key_refresh_ms");
  c.database.url = v.get_string("database.url");
  c.database.pool_size = static_cast<int>(v.get_int("database.pool_size"));
  c.database.connect_timeout_s
    = static_cast<int>(v.get_int("database.connect_timeout_s"));
  c.database.check_interval_ms = v.get_int("database.check_interval_ms");
  c.database.probe_max_ms = v.get_int("database.probe_max_ms");
  c.cluster.port = static_cast<uint16_t>(v.get_int("cluster.port"));
  c.cluster.seeds = v.get_list("cluster.seeds");
  c.cluster.bind = v.get_string("cluster.bind");
  c.cluster.advertise = v.get_string("cluster.advertise");
  c.cluster.heartbeat_ms = v.get_int("cluster.heartbeat_ms");
  c.cluster.tls_certificate = v.get_string("cluster.tls_certificate");
  c.cluster.tls_key = v.get_string("cluster.tls_key");
  c.cluster.tls_ca = v.get_string("cluster.tls_ca");
  c.cluster.link_timeout_ms = v.get_int("cluster.link_timeout_ms");
  c.cluster.shards = v.get_int("cluster.shards");
  c.cluster.lease_ms = v.get_int("cluster.lease_ms");
  c.cluster.renew_ms = v.get_int("cluster.renew_ms");
  c.cluster.settle_ms = v.get_int("cluster.settle_ms");
  c.cluster.handoff_per_round = v.get_int("cluster.handoff_per_round");
  c.cluster.event_tail_ms = v.get_int("cluster.event_tail_ms");
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
  c.clock.test_mode = v.get_bool("clock.test_mode");
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
  c.adyen.base_url = v.get_string("adyen.base_url");
  c.adyen.api_key = v.get_string("adyen.api_key");
  c.adyen.api_key_file = v.get_string("adyen.api_key_file");
  c.adyen.merchant_account = v.get_string("adyen.merchant_account");
  c.adyen.return_url = v.get_string("adyen.return_url");
  c.adyen.hmac_key = v.get_string("adyen.hmac_key");
  c.orders.payment_routes = v.get_list("payments.routes");
  c.billingo.base_url = v.get_string("billingo.base_url");
  c.billingo.api_key = v.get_string("billingo.api_key");
  c.billingo.api_key_file = v.get_string("billingo.api_key_file");
  c.billingo.block_id = v.get_int("billingo.block_id");
  c.orders.three_ds_timeout_ms = v.get_int("orders.three_ds_timeout_ms");
  c.orders.authorization_ttl_ms = v.get_int("orders.authorization_ttl_ms");
  auto& p = c.providers;
  for (auto& [name, field] : policy_fields())
    p.*field = v.get_int("providers." + std::string{name});
  p.overrides = v.get_list("providers.overrides");
  c.jobs.poll_interval_ms = v.get_int("jobs.poll_interval_ms");
  c.jobs.batch = v.get_int("jobs.batch");
  c.jobs.max_running = v.get_int("jobs.max_running");
  c.stats.interval_ms = v.get_int("stats.interval_ms");
  c.stats.batch = v.get_int("stats.batch");
  c.contact.email = v.get_string("contact.email");
  c.contact.sms = v.get_string("contact.sms");
  c.contact.voice = v.get_string("contact.voice");
  c.contact.interval_ms = v.get_int("contact.interval_ms");
  c.contact.batch = v.get_int("contact.batch");
  c.contact.max_in_flight = v.get_int("contact.max_in_flight");
  c.contact.max_attempts = v.get_int("contact.max_attempts");
  c.contact.retry_initial_ms = v.get_int("contact.retry_initial_ms");
  c.contact.retry_max_ms = v.get_int("contact.retry_max_ms");
  c.contact.lease_ms = v.get_int("contact.lease_ms");
  c.contact.inbound_secret = v.get_string("contact.inbound_secret");
  c.smtp.host = v.get_string("smtp.host");
  c.smtp.port = v.get_int("smtp.port");
  c.smtp.tls = v.get_string("smtp.tls");
  c.smtp.username = v.get_string("smtp.username");
  c.smtp.password = v.get_string("smtp.password");
  c.smtp.password_file = v.get_string("smtp.password_file");
  c.smtp.from = v.get_string("smtp.from");
  c.smtp.helo = v.get_string("smtp.helo");
  c.smtp.connections = v.get_int("smtp.connections");
  c.twilio.base_url = v.get_string("twilio.base_url");
  c.twilio.account_sid = v.get_string("twilio.account_sid");
  c.twilio.auth_token = v.get_string("twilio.auth_token");
  c.twilio.auth_token_file = v.get_string("twilio.auth_token_file");
  c.twilio.from = v.get_string("twilio.from");
  c.twilio_status_callback = v.get_string("twilio.status_callback");
  c.twilio2.base_url = v.get_string("twilio2.base_url");
  c.twilio2.account_sid = v.get_string("twilio2.account_sid");
  c.twilio2.auth_token = v.get_string("twilio2.auth_token");
  c.twilio2.auth_token_file = v.get_string("twilio2.auth_token_file");
  c.twilio2.from = v.get_string("twilio2.from");
  c.jobs.lease_ms = v.get_int("jobs.lease_ms");
  c.jobs.max_attempts = v.get_int("jobs.max_attempts");
  c.jobs.retry_initial_ms = v.get_int("jobs.retry_initial_ms");
  c.jobs.retry_max_ms = v.get_int("jobs.retry_max_ms");
  c.subscriptions.dunning_schedule
    = v.get_string("subscriptions.dunning_schedule");
  c.subscriptions.after_dunning = v.get_string("subscriptions.after_dunning");
  c.subscriptions.max_active = v.get_int("subscriptions.max_active");
  return c;
}

} // namespace kassa
