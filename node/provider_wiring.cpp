#include "node/provider_wiring.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "actors/payment_routing.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/adyen.hpp"
#include "adapters/providers/billingo.hpp"
#include "adapters/providers/stripe.hpp"
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
       }});
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
       }});
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
    out.push_back({options, [client, settings](caf::local_actor* self) {
                     return spawn_billingo_adapter(self, client, settings);
                   }});
  }
  return failure;
}

} // namespace kassa
