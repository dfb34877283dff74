#pragma once

// The node's configuration: every key it understands (node/config_schema.cpp,
// documented in config/README.md), the typed view the composition root
// reads, and loading them through runtime/config.hpp's machinery.

#include <string>
#include <string_view>
#include <vector>

#include "runtime/config.hpp"

namespace kassa {

/// Every key a node understands.
const std::vector<config_key>& config_schema();

/// The node's schema with its cross-key rules (providers.overrides).
const config_definition& node_config_definition();

/// `load_config(sources, node_config_definition())`.
config_result load_config(const config_sources& sources);

/// `load_config_json(text, node_config_definition(), origin)`.
config_result load_config_json(std::string_view json_text,
                               std::string_view origin = "file");

// -- the typed view the node uses ---------------------------------------------

/// The limits and policies of a provider connection (the providers.* integer
/// keys; providers.overrides changes them per connection).
struct provider_policy {
  int64_t max_in_flight = 64;
  int64_t min_in_flight = 4;
  int64_t slow_call_ms = 1000;
  int64_t rate_per_s = 0;
  int64_t burst = 50;
  int64_t call_timeout_ms = 3000;
  int64_t max_attempts = 4;
  int64_t retry_initial_ms = 100;
  int64_t retry_max_ms = 2000;
  int64_t retry_deadline_ms = 5000;
  int64_t breaker_failure_percent = 50;
  int64_t breaker_min_calls = 20;
  int64_t breaker_window_ms = 10000;
  int64_t breaker_open_ms = 5000;
  int64_t breaker_probes = 3;
  int64_t breaker_slow_percent = 0;
  int64_t ramp_step_ms = 500;
};

/// The provider connections a node can have (providers.overrides names
/// one of them).
const std::vector<std::string_view>& provider_connection_names();

struct node_config {
  std::string node_id;
  struct {
    std::string bind;
    uint16_t port = 8080;
    std::vector<std::string> api_keys;
    int io_threads = 1;
    uint64_t body_limit_bytes = 1 << 20;
    int64_t request_timeout_ms = 30000;
    int64_t idle_timeout_ms = 60000;
    int64_t header_timeout_ms = 10000;
    int64_t body_timeout_ms = 30000;
    int64_t max_connections = 10000;
    int64_t linger_ms = 5000;
    int64_t rate_limit_per_s = 0;
    int64_t rate_limit_burst = 100;
    int64_t key_refresh_ms = 2000;
  } http;
  struct {
    std::string url;
    int pool_size = 4;
    int connect_timeout_s = 5;
    int64_t check_interval_ms = 1000;
    int64_t probe_max_ms = 2000;
  } database;
  struct {
    uint16_t port = 0;
    std::vector<std::string> seeds;
    std::string bind = "127.0.0.1";
    std::string advertise;
    int64_t heartbeat_ms = 500;
    /// PEM files of the cluster link's TLS (all three or none).
    std::string tls_certificate;
    std::string tls_key;
    std::string tls_ca;
    bool tls() const {
      return !tls_certificate.empty();
    }
    int64_t link_timeout_ms = 2000;
    int64_t shards = 256;
    int64_t lease_ms = 3000;
    int64_t renew_ms = 1000;
    int64_t settle_ms = 3000;
    int64_t handoff_per_round = 32;
    int64_t event_tail_ms = 100;
  } cluster;
  struct {
    std::string policy;
    int threads = 2;
  } scheduler;
  std::string log_level;
  struct {
    int max_restarts = 5;
    int64_t window_ms = 60000;
    int64_t backoff_initial_ms = 100;
    int64_t backoff_max_ms = 10000;
  } supervisor;
  int64_t shutdown_grace_ms = 10000;
  int64_t shutdown_exit_timeout_ms = 5000;
  bool debug_fault_switches = false;
  struct {
    bool test_mode = false;
  } clock;
  struct {
    std::string dunning_schedule = "1d,3d,5d,7d";
    std::string after_dunning = "canceled";
    int64_t max_active = 1000;
  } subscriptions;
  struct {
    int64_t max_queue_frames = 4096;
    int64_t max_frame_bytes = 65536;
    int64_t idle_timeout_ms = 30000;
    int64_t send_buffer_bytes = 0;
    int64_t io_threads = 2;
    std::string customer_token_secret;
  } ws;
  struct {
    int64_t call_timeout_ms = 10000;
    int64_t max_attempts = 5;
    int64_t max_compensation_attempts = 8;
    int64_t retry_initial_ms = 50;
    int64_t retry_max_ms = 2000;
    int64_t three_ds_timeout_ms = 900000;
    int64_t authorization_ttl_ms = 604800000;
    std::string payment_provider = "sandbox";
    /// payments.routes, each checked: `"auto"` orders' processors.
    std::vector<std::string> payment_routes;
    int64_t max_active_sagas = 1000;
    int64_t resume_per_s = 4000;
    int64_t max_revivals = 3;
    int64_t sweep_interval_ms = 30000;
    std::string invoicing_provider = "sandbox";
  } orders;
  struct {
    std::string base_url;
    std::string secret_key;
    std::string secret_key_file;
    std::string webhook_secret;
  } stripe;
  struct {
    std::string base_url;
    std::string api_key;
    std::string api_key_file;
    std::string merchant_account;
    std::string return_url;
    std::string hmac_key; ///< hex, as Adyen's Customer Area shows it
  } adyen;
  struct {
    std::string base_url;
    std::string api_key;
    std::string api_key_file;
    int64_t block_id = 0;
  } billingo;
  struct : provider_policy {
    std::string ca_file;
    /// Validated `<connection>.<key>=<value>` entries.
    std::vector<std::string> overrides;
  } providers;

  /// The policy of connection `name`: providers.* with its overrides.
  provider_policy policy_for(std::string_view name) const;
  struct {
    int64_t poll_interval_ms = 500;
    int64_t batch = 64;
    int64_t max_running = 1024;
    int64_t lease_ms = 30000;
    int64_t max_attempts = 20;
    int64_t retry_initial_ms = 1000;
    int64_t retry_max_ms = 300000;
  } jobs;
  struct {
    int64_t interval_ms = 1000;
    int64_t batch = 5000;
  } stats;
  struct {
    std::string email = "sandbox-messaging";
    std::string sms = "sandbox-sms,sandbox-sms-2";
    std::string voice = "sandbox-voice";
    int64_t interval_ms = 1000;
    int64_t batch = 500;
    int64_t max_in_flight = 2000;
    int64_t max_attempts = 10;
    int64_t retry_initial_ms = 1000;
    int64_t retry_max_ms = 300000;
    int64_t lease_ms = 15000;
    std::string inbound_secret;
  } contact;
  struct {
    std::string host;
    int64_t port = 587;
    std::string tls = "starttls";
    std::string username;
    std::string password;
    std::string password_file;
    std::string from = "kassa@localhost";
    std::string helo = "kassa.localhost";
    int64_t connections = 4;
  } smtp;
  struct twilio_account {
    std::string base_url;
    std::string account_sid;
    std::string auth_token;
    std::string auth_token_file;
    std::string from;
  };
  twilio_account twilio;
  twilio_account twilio2;
  std::string twilio_status_callback;
};

/// Builds the typed view from validated values.
node_config to_node_config(const config_values& values);

} // namespace kassa
