#include "node/provider_wiring.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "actors/payment_routing.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/adyen.hpp"
#include "adapters/providers/billingo.hpp"
#include "adapters/providers/smtp.hpp"
#include "adapters/providers/stripe.hpp"
#include "adapters/providers/twilio.hpp"
#include "node/config.hpp"

namespace kassa {

namespace {

/// A secret from its file (trimmed), else the value itself.
std::string read_secret(const std::string& value, const std::string& file,
                        const char* key, std::string& failure) {
  if (file.empty())
    return value;
  std::ifstream in{file};
  if (!in) {
    failure = std::string{key} + ": cannot read " + file;
    return {};
  }
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

} // namespace

/// The limits and policies of a provider connection.
provider_connection_options connection_options(const node_config& config,
                                               std::string name,
                                               provider_kind kind,
                                               std::string adapter) {
  auto p = config.policy_for(name);
  provider_connection_options o;
  o.name = std::move(name);
  o.kind = to_string(kind);
  o.adapter = std::move(adapter);
  o.max_in_flight = static_cast<uint32_t>(p.max_in_flight);
  o.min_in_flight = static_cast<uint32_t>(p.min_in_flight);
  o.slow_call = millis{p.slow_call_ms};
  o.rate_per_s = static_cast<double>(p.rate_per_s);
  o.burst = static_cast<double>(p.burst);
  o.call_timeout = millis{p.call_timeout_ms};
  o.retry = retry_policy{static_cast<uint32_t>(p.max_attempts),
                         millis{p.retry_initial_ms}, millis{p.retry_max_ms},
                         millis{p.retry_deadline_ms}};
  o.breaker.failure_ratio
    = static_cast<double>(p.breaker_failure_percent) / 100.0;
  o.breaker.min_calls = static_cast<uint32_t>(p.breaker_min_calls);
  o.breaker.window = millis{p.breaker_window_ms};
  o.breaker.open_for = millis{p.breaker_open_ms};
  o.breaker.probes = static_cast<uint32_t>(p.breaker_probes);
  o.breaker.slow_call = millis{p.slow_call_ms};
  o.breaker.slow_ratio = static_cast<double>(p.breaker_slow_percent) / 100.0;
  o.breaker.ramp_step = millis{p.ramp_step_ms};
  if (kind == provider_kind::invoicing)
    o.unsafe_ops = {"invoice"}; // like Billingo: no idempotency key
  return o;
}

std::map<std::string, std::vector<std::string>>
contact_channels(const node_config& config) {
  auto split = [](const std::string& list) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= list.size()) {
      auto comma = list.find(',', pos);
      if (comma == std::string::npos)
        comma = list.size();
      auto item = list.substr(pos, comma - pos);
      while (!item.empty() && item.front() == ' ')
        item.erase(item.begin());
      while (!item.empty() && item.back() == ' ')
        item.pop_back();
      if (!item.empty())
        out.push_back(item);
      pos = comma + 1;
    }
    return out;
  };
  return {{"email", split(config.contact.email)},
          {"sms", split(config.contact.sms)},
          {"voice", split(config.contact.voice)}};
}

std::string check_contact_channels(const node_config& config,
                                   const std::vector<real_provider>& real) {
  // Which channels each connection speaks.
  std::map<std::string, std::vector<std::string>> speaks{
    {sandbox_name(provider_kind::messaging), {"email", "sms", "voice"}}};
  for (auto& name : sandbox_channel_names())
    speaks[name] = {"email", "sms", "voice"};
  for (auto& p : real) {
    if (p.options.adapter == "smtp")
      speaks[p.options.name] = {"email"};
    else if (p.options.adapter == "twilio")
      speaks[p.options.name] = {"sms", "voice"};
  }
  for (auto& [channel, names] : contact_channels(config))
    for (auto& name : names) {
      auto i = speaks.find(name);
      if (i == speaks.end())
        return "contact." + channel + ": no provider connection " + name
               + (name == "smtp" ? " (set smtp.host)"
                  : name.rfind("twilio", 0) == 0
                    ? " (set its account_sid and auth_token)"
                    : "");
      if (std::find(i->second.begin(), i->second.end(), channel)
          == i->second.end())
        return "contact." + channel + ": " + name + " does not send " + channel;
    }
  return {};
}

std::shared_ptr<const payment_routing>
make_payment_routing(const node_config& config) {
  auto routing = std::make_shared<payment_routing>();
  for (auto& entry : config.orders.payment_routes) {
    auto parsed = parse_payment_route(entry, payment_processor_names());
    if (auto r = std::get_if<payment_route>(&parsed))
      routing->push_back(std::move(*r));
  }
  return routing;
}

std::string
check_payment_processors(const node_config& config,
                         const std::vector<std::string>& configured) {
  auto has = [&](const std::string& name) {
    return std::find(configured.begin(), configured.end(), name)
           != configured.end();
  };
  auto needs = [](const std::string& name) -> std::string {
    return name == "stripe" ? "stripe.secret_key or stripe.secret_key_file"
                            : "adyen.api_key or adyen.api_key_file";
  };
  auto& fallback = config.orders.payment_provider;
  if (fallback == "auto" && config.orders.payment_routes.empty())
    return "orders.payment_provider: auto needs payments.routes";
  if (fallback != "auto" && !has(fallback))
    return "orders.payment_provider: " + fallback + " needs " + needs(fallback);
  for (auto& route : *make_payment_routing(config))
    for (auto& name : route.processors)
      if (!has(name))
        return "payments.routes: " + name + " needs " + needs(name);
  return {};
}

/// Stripe and Billingo connections for what the configuration enables.
std::string make_real_providers(const node_config& config,
                                std::vector<real_provider>& out,
                                fault_reporter faults) {
  std::string failure;
  auto client_for = [&](const std::string& base_url, const char* key,
                        std::string_view connection) {
    http_client_options o;
    o.base_url = base_url;
    o.ca_file = config.providers.ca_file;
    o.timeout = millis{config.policy_for(connection).call_timeout_ms};
    o.faults = faults;
    std::string error;
    auto client = http_client::make(o, error);
    if (!client && failure.empty())
      failure = std::string{key} + ": " + error;
    return client;
  };
  auto stripe_key
    = read_secret(config.stripe.secret_key, config.stripe.secret_key_file,
                  "stripe.secret_key_file", failure);
  if (!stripe_key.empty()) {
    auto client
      = client_for(config.stripe.base_url, "stripe.base_url", "stripe");
    if (!client)
      return failure;
    out.push_back(
      {connection_options(config, "stripe", provider_kind::payment, "stripe"),
       [client, stripe_key](caf::local_actor* self) {
         return spawn_stripe_adapter(self, client, stripe_key);
       },
       {},
       {}});
  }
  auto adyen_key = read_secret(config.adyen.api_key, config.adyen.api_key_file,
                               "adyen.api_key_file", failure);
  if (!adyen_key.empty()) {
    if (config.adyen.merchant_account.empty())
      return "adyen.merchant_account: required with an Adyen API key";
    auto client = client_for(config.adyen.base_url, "adyen.base_url", "adyen");
    if (!client)
      return failure;
    adyen_settings settings{adyen_key, config.adyen.merchant_account,
                            config.adyen.return_url};
    out.push_back(
      {connection_options(config, "adyen", provider_kind::payment, "adyen"),
       [client, settings](caf::local_actor* self) {
         return spawn_adyen_adapter(self, client, settings);
       },
       {},
       {}});
  }
  auto billingo_key
    = read_secret(config.billingo.api_key, config.billingo.api_key_file,
                  "billingo.api_key_file", failure);
  if (!billingo_key.empty()) {
    auto client
      = client_for(config.billingo.base_url, "billingo.base_url", "billingo");
    if (!client)
      return failure;
    billingo_settings settings;
    settings.api_key = billingo_key;
    settings.block_id = config.billingo.block_id;
    auto options = connection_options(config, "billingo",
                                      provider_kind::invoicing, "billingo");
    options.unsafe_ops = {"invoice"}; // no idempotency key at Billingo
    out.push_back({options,
                   [client, settings](caf::local_actor* self) {
                     return spawn_billingo_adapter(self, client, settings);
                   },
                   {},
                   {}});
  }
  if (!config.smtp.host.empty()) {
    smtp_settings s;
    s.host = config.smtp.host;
    s.port = static_cast<uint16_t>(config.smtp.port);
    s.starttls = config.smtp.tls == "starttls";
    s.username = config.smtp.username;
    s.password = read_secret(config.smtp.password, config.smtp.password_file,
                             "smtp.password_file", failure);
    if (!failure.empty())
      return failure;
    s.from = config.smtp.from;
    s.helo = config.smtp.helo;
    s.ca_file = config.providers.ca_file;
    s.connections = static_cast<size_t>(config.smtp.connections);
    s.timeout = millis{config.policy_for("smtp").call_timeout_ms};
    s.faults = faults;
    std::string error;
    auto client = smtp_client::make(s, error);
    if (!client)
      return "smtp.host: " + error;
    out.push_back(
      {connection_options(config, "smtp", provider_kind::messaging, "smtp"),
       [client](caf::local_actor* self) {
         return spawn_smtp_adapter(self, client);
       },
       {},
       {}});
  }
  auto twilio_account = [&](const node_config::twilio_account& account,
                            const std::string& name,
                            const std::string& prefix) {
    auto token = read_secret(account.auth_token, account.auth_token_file,
                             (prefix + ".auth_token_file").c_str(), failure);
    if (account.account_sid.empty() || !failure.empty())
      return;
    if (token.empty() || account.from.empty()) {
      failure = prefix + ": account_sid needs auth_token and from";
      return;
    }
    auto client
      = client_for(account.base_url, (prefix + ".base_url").c_str(), name);
    if (!client)
      return;
    twilio_settings settings{account.account_sid, token, account.from,
                             config.twilio_status_callback};
    auto options
      = connection_options(config, name, provider_kind::messaging, "twilio");
    // No idempotency key at Twilio: a create is not repeated after an
    // unknown outcome.
    options.unsafe_ops = {"message"};
    out.push_back({options,
                   [client, settings](caf::local_actor* self) {
                     return spawn_twilio_adapter(self, client, settings);
                   },
                   account.account_sid, token});
  };
  twilio_account(config.twilio, "twilio", "twilio");
  if (failure.empty())
    twilio_account(config.twilio2, "twilio-2", "twilio2");
  return failure;
}

} // namespace kassa
