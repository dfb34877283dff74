#pragma once

// Composition-root helpers: the provider connections a configuration asks
// for (limits and policies, real adapters with their HTTP clients).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/provider_connection.hpp"
#include "adapters/providers/sandbox.hpp"
#include "runtime/fault_reporter.hpp"

namespace kassa {

struct node_config;
struct payment_route;
using payment_routing = std::vector<payment_route>;

/// The limits and policies of a provider connection.
provider_connection_options connection_options(const node_config& config,
                                               std::string name,
                                               provider_kind kind,
                                               std::string adapter);

/// A configured real provider: its connection's options and adapter.
struct real_provider {
  provider_connection_options options;
  adapter_factory make_adapter;
  /// Twilio: the account SID and the auth token its status callbacks are
  /// signed with (POST /v1/webhooks/twilio).
  std::string account;
  std::string webhook_secret;
};

/// The routing table of payments.routes (checked at load: every entry
/// reads).
std::shared_ptr<const payment_routing>
make_payment_routing(const node_config& config);

/// Empty, or why the payment settings name a processor this node does not
/// have (`configured`: sandbox and the real ones with keys):
/// orders.payment_provider, and each processor of payments.routes.
std::string
check_payment_processors(const node_config& config,
                         const std::vector<std::string>& configured);

/// contact.email, contact.sms and contact.voice: each channel's provider
/// connections in order.
std::map<std::string, std::vector<std::string>>
contact_channels(const node_config& config);

/// Empty, or why a channel names a connection that is not there
/// (`connections`: the sandboxes and the real ones configured) or one that
/// does not speak the channel.
std::string check_contact_channels(const node_config& config,
                                   const std::vector<real_provider>& real);

/// Stripe and Billingo connections for what the configuration enables;
/// returns an empty string or the one-line reason it cannot (a secret file
/// that cannot be read, a bad base URL).
std::string make_real_providers(const node_config& config,
                                std::vector<real_provider>& out,
                                fault_reporter faults);

} // namespace kassa
