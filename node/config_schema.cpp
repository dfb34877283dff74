#include "node/config.hpp"

// The schema table: every key a node understands, its default, range,
// environment twin, flag and meaning. config/README.md is checked against
// this table by a test; loading and validation are in config.cpp.

namespace kassa {

namespace {

using ct = config_type;

config_key int_key(std::string_view key, std::string_view def, int64_t min,
                   int64_t max, std::string_view description,
                   std::string_view flag = {}) {
  return {key, ct::integer, def, min, max, {}, flag, {}, description};
}

config_key str_key(std::string_view key, std::string_view def,
                   std::string_view choices, std::string_view description,
                   std::string_view flag = {},
                   std::string_view env_alias = {}) {
  return {key, ct::string, def, 0, 0, choices, flag, env_alias, description};
}

config_key list_key(std::string_view key, std::string_view description,
                    std::string_view flag = {},
                    std::string_view env_alias = {}) {
  return {key, ct::string_list, "", 0, 0, {}, flag, env_alias, description};
}

} // namespace

const std::vector<config_key>& config_schema() {
  static const std::vector<config_key> schema = {
    str_key("node.id", "", "",
            "Name of this node in logs, metrics and the cluster; empty = "
            "the host name. One process per name: a process that starts "
            "under a name takes over the shards of the previous one at "
            "once (and fences it).",
            "--node-id"),
    str_key("http.bind", "127.0.0.1", "",
            "Address the HTTP/WebSocket listener binds to."),
    int_key("http.port", "8080", 1, 65535,
            "Port of the HTTP/WebSocket listener.", "--http-port"),
    list_key("http.api_keys",
             "API keys accepted as `Authorization: Bearer <key>` on /v1/. "
             "Empty = every /v1/ request is refused with 401.",
             {}, "KASSA_API_KEYS"),
    int_key("http.io_threads", "1", 1, 64,
            "Asio threads that run the HTTP sessions."),
    int_key("http.body_limit_bytes", "1048576", 1024, 1073741824,
            "Largest request body accepted; larger ones get 413."),
    int_key("http.request_timeout_ms", "30000", 100, 3600000,
            "Deadline to answer a request once it is read; past it the "
            "client gets 504 and a late answer is dropped."),
    int_key("http.idle_timeout_ms", "60000", 100, 3600000,
            "A connection that sends nothing (or not a whole request) for "
            "this long is closed."),
    int_key("http.header_timeout_ms", "10000", 100, 3600000,
            "From a request's first byte to the end of its headers; a "
            "client slower than that (slowloris) is closed."),
    int_key("http.body_timeout_ms", "30000", 100, 3600000,
            "From the end of a request's headers to the end of its body."),
    int_key("http.max_connections", "10000", 1, 1000000,
            "Open HTTP connections beyond this are answered 503 and "
            "closed (WebSocket connections are not counted once upgraded)."),
    int_key("http.linger_ms", "5000", 0, 600000,
            "After an early error answer (413, 400): how long what the "
            "client still sends is read and dropped, so it sees the answer."),
    int_key("http.rate_limit_per_s", "0", 0, 1000000,
            "Requests per second allowed per API key (a token bucket); "
            "over it the answer is 429 with Retry-After. 0 = no limit."),
    int_key("http.rate_limit_burst", "100", 1, 1000000,
            "Requests an API key may send at once above its rate."),
    int_key("http.key_refresh_ms", "2000", 100, 600000,
            "How often the node reads the stored API keys again (a key "
            "created or revoked elsewhere counts here within it)."),
    str_key("database.url", "", "",
            "PostgreSQL connection string (libpq URI or key=value). Required "
            "by `serve` and `migrate`.",
            "--database-url"),
    int_key("database.pool_size", "4", 1, 64,
            "Connections in the query pool (each one a detached actor)."),
    int_key("database.connect_timeout_s", "5", 1, 300,
            "Seconds to wait for a database connection."),
    int_key("database.check_interval_ms", "1000", 50, 600000,
            "How often the database monitor checks, on its own connection, "
            "that the server is there and writable — so an idle node notices "
            "an outage and /readyz says so."),
    int_key("database.probe_max_ms", "2000", 50, 600000,
            "While the database is away, the longest wait between two "
            "reconnect probes (they back off from 100 ms, with jitter)."),
    int_key("cluster.port", "0", 0, 65535,
            "Port for CAF's middleman between nodes; 0 = no cluster "
            "(single node).",
            "--cluster-port"),
    str_key("cluster.bind", "127.0.0.1", "",
            "Address the cluster port binds to: the peers' network only "
            "(a plain middleman port accepts any TCP peer)."),
    str_key("cluster.advertise", "", "",
            "host:port the other nodes dial to reach this one; empty = "
            "cluster.bind:cluster.port."),
    list_key("cluster.seeds",
             "Other nodes to dial at start, as host:port (the database's "
             "node table lists the rest).",
             "--seeds", "KASSA_SEEDS"),
    str_key("cluster.tls_certificate", "", "",
            "PEM certificate of this node for the cluster link, signed by "
            "the cluster's CA; with cluster.tls_key and cluster.tls_ca the "
            "link is TLS and a peer without such a certificate is refused."),
    str_key("cluster.tls_key", "", "",
            "PEM private key of cluster.tls_certificate."),
    str_key("cluster.tls_ca", "", "",
            "PEM certificate of the cluster's private CA: peers must present "
            "a certificate it signed."),
    int_key("cluster.heartbeat_ms", "500", 50, 60000,
            "Middleman heartbeat between linked nodes (set alike on every "
            "node)."),
    int_key("cluster.link_timeout_ms", "2000", 100, 600000,
            "A link that heard nothing for this long is cut and redialled "
            "(set alike on every node; a frozen peer is noticed this late)."),
    int_key("cluster.shards", "256", 1, 65536,
            "Shards that order ids hash onto. Fixed when the cluster is "
            "created (its first node's start); a node configured otherwise "
            "refuses to start."),
    int_key("cluster.lease_ms", "3000", 300, 600000,
            "A shard lease lasts this long past its last renewal (database "
            "clock): how long a dead node's shards wait for a new owner."),
    int_key("cluster.renew_ms", "1000", 50, 300000,
            "How often a node renews its leases, heartbeats and takes free "
            "or expired shards; at most half of cluster.lease_ms. A node "
            "whose renewals have not come back for lease_ms - renew_ms "
            "fences itself."),
    int_key("cluster.settle_ms", "3000", 0, 600000,
            "The number of live nodes must stay the same this long before a "
            "node gives shards back to balance the cluster."),
    int_key("cluster.event_tail_ms", "100", 0, 60000,
            "How often a node looks for events other nodes committed, for "
            "its WebSocket subscribers (they get them within about twice "
            "this); 0 = only this node's events."),
    int_key("cluster.handoff_per_round", "32", 1, 65536,
            "At most this many shards taken, and given back, per renewal "
            "round: a dead node's shards spread over the survivors."),
    str_key("scheduler.policy", "stealing", "stealing|sharing",
            "CAF scheduler: work stealing or a shared queue."),
    int_key("scheduler.threads", "2", 1, 256, "CAF worker threads."),
    str_key("log.level", "info", "debug|info|warn|error",
            "Lowest level written to stderr."),
    int_key("supervisor.max_restarts", "5", 0, 10000,
            "Restarts of one child allowed within supervisor.window_ms before "
            "the supervisor gives up and escalates to its parent."),
    int_key("supervisor.window_ms", "60000", 1, 86400000,
            "Window over which restarts are counted."),
    int_key("supervisor.backoff_initial_ms", "100", 0, 3600000,
            "Delay before the first restart; doubles per consecutive crash."),
    int_key("supervisor.backoff_max_ms", "10000", 0, 3600000,
            "Upper bound of the restart delay."),
    int_key("orders.call_timeout_ms", "10000", 100, 600000,
            "A provider call of a saga without an answer after this long "
            "counts as a transient failure and is retried (same idempotency "
            "key)."),
    int_key("orders.max_attempts", "5", 1, 1000,
            "Attempts of a saga step with transient failures before the "
            "order is compensated."),
    int_key("orders.max_compensation_attempts", "8", 1, 100000,
            "Attempts of a compensation before the order ends failed (and "
            "needs a person)."),
    int_key("orders.retry_initial_ms", "50", 1, 3600000,
            "Delay before a step's second attempt; doubles per attempt."),
    int_key("orders.retry_max_ms", "2000", 1, 3600000,
            "Upper bound of a step's retry delay."),
    int_key("orders.three_ds_timeout_ms", "900000", 100, 86400000,
            "An order waiting for the customer's 3-D Secure (or a "
            "processor's decision on a pending payment) longer than this is "
            "compensated and cancelled; a payment the processor named is "
            "reversed."),
    int_key("orders.authorization_ttl_ms", "604800000", 100, 2592000000,
            "An order placed with \"capture\":\"manual\" whose authorization "
            "is not captured within this long is voided and compensated "
            "(7 days: how long card authorizations usually hold)."),
    int_key("providers.max_in_flight", "64", 1, 100000,
            "Most calls one provider connection has in flight at once; more "
            "wait in its queue. The adaptive limit moves below it."),
    int_key("providers.min_in_flight", "4", 1, 100000,
            "The adaptive limit never lets fewer calls into flight than "
            "this (it shrinks on timeouts, overload answers and slow calls, "
            "and grows back while the provider keeps up)."),
    int_key("providers.slow_call_ms", "1000", 0, 600000,
            "A call that took this long is slow: counted in the slow-call "
            "rate and it shrinks the adaptive limit. 0 = no call is slow."),
    int_key("providers.rate_per_s", "0", 0, 1000000,
            "Calls per second a provider connection starts (token bucket); "
            "0 = unlimited."),
    int_key("providers.burst", "50", 1, 1000000,
            "Token bucket size: calls that may start at once after a quiet "
            "spell."),
    int_key("providers.call_timeout_ms", "3000", 10, 600000,
            "One provider call without an answer after this long has an "
            "unknown outcome (retried only when the call is idempotent)."),
    int_key("providers.max_attempts", "4", 1, 100,
            "Attempts a provider connection makes for one call with "
            "transient failures before answering the saga."),
    int_key("providers.retry_initial_ms", "100", 1, 3600000,
            "Upper bound of the first retry delay (full jitter); doubles per "
            "attempt."),
    int_key("providers.retry_max_ms", "2000", 1, 3600000,
            "Upper bound of any retry delay."),
    int_key("providers.retry_deadline_ms", "5000", 0, 3600000,
            "No retry starts later than this after the first attempt; keep "
            "it plus providers.call_timeout_ms under orders.call_timeout_ms."),
    int_key("providers.breaker_failure_percent", "50", 1, 100,
            "The circuit opens when this share of the calls that ended "
            "within the window failed..."),
    int_key("providers.breaker_min_calls", "20", 1, 1000000,
            "...and at least this many calls ended within the window."),
    int_key("providers.breaker_window_ms", "10000", 100, 3600000,
            "Window over which the circuit breaker counts outcomes."),
    int_key("providers.breaker_open_ms", "5000", 10, 3600000,
            "An open circuit refuses calls this long (sagas park), then lets "
            "probes through (half-open)."),
    int_key("providers.breaker_probes", "3", 1, 1000,
            "Probes in flight while half-open; this many successes close the "
            "circuit, one failure opens it again."),
    int_key("providers.breaker_slow_percent", "0", 0, 100,
            "The circuit opens also when this share of the window's calls "
            "were slow (providers.slow_call_ms); 0 = slow calls never open "
            "it (they only shrink the adaptive limit)."),
    int_key("providers.ramp_step_ms", "500", 1, 600000,
            "Sagas parked while a circuit was open come back in waves this "
            "far apart: breaker_probes, then twice as many each step, the "
            "oldest first."),
    list_key("providers.overrides",
             "Per-connection policies: `<connection>.<key>=<value>` for any "
             "integer providers.* key, e.g. "
             "`sandbox-shipping.call_timeout_ms=8000`."),
    str_key("providers.ca_file", "", "",
            "PEM file of CAs trusted for provider HTTPS (a test CA); empty = "
            "the system's trust store. Certificates are always verified."),
    int_key("orders.sweep_interval_ms", "30000", 100, 3600000,
            "How often the sweeper looks for live sagas that no actor drives "
            "(dropped past their restart budget, stopped by a bug) and "
            "drives them again from their journal."),
    int_key("orders.max_active_sagas", "1000", 0, 10000000,
            "Sagas working at once; more orders wait (pending) for a slot, "
            "so an overload queues instead of timing out. Sagas waiting "
            "for 3-D Secure or a parked provider hold no slot. 0 = no "
            "limit."),
    int_key("orders.max_revivals", "3", 1, 1000,
            "A live saga the sweeper had to drive again this many times and "
            "that stopped once more is given up: marked failed with the "
            "reason (nothing compensated; a person looks at it)."),
    int_key("orders.resume_per_s", "4000", 1, 1000000,
            "Sagas paused by a database outage restart at most this many a "
            "second once it is back (each reloads its journal)."),
    str_key("orders.payment_provider", "sandbox", "sandbox|stripe|adyen|auto",
            "Payment processor of an order that names none (`auto`: the "
            "first of payments.routes that matches)."),
    list_key("payments.routes",
             "The routing table of `\"provider\":\"auto\"` orders, tried in "
             "order: `[currency=EUR|USD] [country=DE|AT] [min=<minor>] "
             "[max=<minor>] -> <processor> [<fallback> ...]`, e.g. "
             "`currency=EUR -> adyen stripe`, `-> sandbox` (matches all). "
             "An order is charged by the first processor of the first "
             "matching entry; while that one is out (circuit open, or it "
             "answers unavailable before anything was authorized) by the "
             "next."),
    str_key("orders.invoicing_provider", "sandbox", "sandbox|billingo",
            "Invoicing provider of new orders."),
    str_key("stripe.base_url", "https://api.stripe.com", "",
            "Stripe API base URL."),
    str_key("stripe.secret_key", "", "",
            "Stripe secret key; empty (and no file) = no Stripe connection."),
    str_key("stripe.secret_key_file", "", "",
            "File holding the Stripe secret key (read at start)."),
    str_key("stripe.webhook_secret", "", "",
            "Signing secret of POST /v1/webhooks/stripe; empty = the "
            "endpoint answers 404."),
    str_key(
      "adyen.base_url", "https://checkout-test.adyen.com/v71", "",
      "Adyen Checkout API v71 base URL (live: your "
      "`https://<prefix>-checkout-live.adyenpayments.com/checkout/v71`)."),
    str_key("adyen.api_key", "", "",
            "Adyen API key (X-API-Key); empty (and no file) = no Adyen "
            "connection."),
    str_key("adyen.api_key_file", "", "",
            "File holding the Adyen API key (read at start)."),
    str_key("adyen.merchant_account", "", "",
            "Adyen merchant account of every payment (required with a key)."),
    str_key("adyen.return_url", "https://example.invalid/kassa/return", "",
            "returnUrl sent with each payment (where a shopper comes back "
            "after a redirect)."),
    str_key("adyen.hmac_key", "", "",
            "HMAC key (hex) of the webhooks Adyen sends to POST "
            "/v1/webhooks/adyen; empty = the endpoint answers 404."),
    str_key("billingo.base_url", "https://api.billingo.hu/v3", "",
            "Billingo API v3 base URL."),
    str_key("billingo.api_key", "", "",
            "Billingo API key (X-API-KEY); empty (and no file) = no Billingo "
            "connection."),
    str_key("billingo.api_key_file", "", "",
            "File holding the Billingo API key (read at start)."),
    int_key("billingo.block_id", "0", 0, 2147483647,
            "Billingo document block invoices are issued in."),
    str_key("subscriptions.dunning_schedule", "1d,3d,5d,7d", "",
            "When a declined subscription charge is tried again, counted "
            "from the first failure (units s, m, h, d; each later than the "
            "one before; empty = never). The subscription is past_due "
            "meanwhile."),
    str_key("subscriptions.after_dunning", "canceled", "canceled|unpaid",
            "A subscription's status once the last try failed: canceled, or "
            "unpaid (kept, not billed again)."),
    int_key("subscriptions.max_active", "1000", 1, 10000000,
            "Subscription actors working at once (a renewal wave queues for "
            "a slot); idle ones are not in memory."),
    int_key("stats.interval_ms", "1000", 10, 3600000,
            "How often the statistics take in what the event log gained "
            "(GET /v1/stats takes it in before it answers)."),
    int_key("stats.batch", "5000", 10, 1000000,
            "Events the statistics take in per transaction."),
    str_key("contact.email", "sandbox-messaging", "",
            "Provider connections that send e-mail, tried in this order (comma "
            "separated): `sandbox-messaging`, `smtp`. A message one of them "
            "does not take (circuit open, outage) goes to the next."),
    str_key("contact.sms", "sandbox-sms,sandbox-sms-2", "",
            "Provider connections that send SMS, tried in this order: "
            "`sandbox-sms`, `sandbox-sms-2`, `twilio`, `twilio-2`."),
    str_key("contact.voice", "sandbox-voice", "",
            "Provider connections that place voice calls, tried in this order: "
            "`sandbox-voice`, `twilio`, `twilio-2`."),
    int_key("contact.interval_ms", "1000", 10, 60000,
            "How often the contact service looks for due messages (retries, "
            "and messages of a node that died)."),
    int_key("contact.batch", "500", 1, 10000,
            "Messages leased per query (a full batch leases again at once)."),
    int_key("contact.max_in_flight", "2000", 1, 1000000,
            "Messages being sent at once by this node."),
    int_key(
      "contact.max_attempts", "10", 1, 1000,
      "Attempts before a message that no provider took is marked `failed`."),
    int_key("contact.retry_initial_ms", "1000", 10, 3600000,
            "Upper bound of the delay after a message's first failed round "
            "(full jitter); doubles per round."),
    int_key("contact.retry_max_ms", "300000", 10, 86400000,
            "Upper bound of a message's retry delay."),
    int_key("contact.lease_ms", "15000", 3000, 3600000,
            "A message being sent by a node that died is sent again after this "
            "long (by the provider it may have reached)."),
    str_key("contact.inbound_secret", "", "",
            "HMAC-SHA256 key of POST /v1/webhooks/email (a customer's e-mail "
            "reply, as an inbound mail service posts it, lands in its "
            "ticket); empty = the endpoint answers 404."),
    str_key("smtp.host", "", "",
            "SMTP server of e-mail (`smtp` connection); empty = none."),
    int_key("smtp.port", "587", 1, 65535, "SMTP server port."),
    str_key("smtp.tls", "starttls", "starttls|none",
            "`starttls`: the session is encrypted before anything is sent (the "
            "certificate checked against providers.ca_file or the system's "
            "CAs; a server without STARTTLS is refused); `none`: plain text (a "
            "local relay)."),
    str_key("smtp.username", "", "",
            "SMTP AUTH user (PLAIN, after STARTTLS); empty = no AUTH."),
    str_key("smtp.password", "", "", "SMTP AUTH password."),
    str_key("smtp.password_file", "", "",
            "File holding the SMTP password (read at start)."),
    str_key("smtp.from", "kassa@localhost", "",
            "The sender (MAIL FROM and From:)."),
    str_key("smtp.helo", "kassa.localhost", "",
            "The name the node gives in EHLO."),
    int_key("smtp.connections", "4", 1, 64,
            "SMTP sessions kept open; messages are sent over them one after "
            "another."),
    str_key(
      "twilio.base_url", "https://api.twilio.com", "",
      "Twilio (or Twilio-compatible) API base URL of the `twilio` connection."),
    str_key("twilio.account_sid", "", "",
            "Account SID; empty = no `twilio` connection."),
    str_key("twilio.auth_token", "", "",
            "Auth token (HTTP Basic password; also signs status callbacks)."),
    str_key("twilio.auth_token_file", "", "",
            "File holding the auth token (read at start)."),
    str_key("twilio.from", "", "", "Sender number (E.164) of SMS and calls."),
    str_key("twilio.status_callback", "", "",
            "Public URL of this node's POST /v1/webhooks/twilio, sent as "
            "StatusCallback (delivery reports); empty = none asked for."),
    str_key("twilio2.base_url", "https://api.twilio.com", "",
            "Base URL of a second Twilio-compatible account, the `twilio-2` "
            "connection (a failover)."),
    str_key("twilio2.account_sid", "", "",
            "Account SID of `twilio-2`; empty = none."),
    str_key("twilio2.auth_token", "", "", "Auth token of `twilio-2`."),
    str_key("twilio2.auth_token_file", "", "",
            "File holding the auth token of `twilio-2`."),
    str_key("twilio2.from", "", "", "Sender number of `twilio-2`."),
    int_key("jobs.poll_interval_ms", "500", 10, 60000,
            "How often the scheduler looks for due durable jobs."),
    int_key("jobs.batch", "64", 1, 10000,
            "Due jobs leased per query (a full batch leases again at once)."),
    int_key("jobs.max_running", "1024", 1, 1000000,
            "Jobs handed to their handlers and not yet answered: how many "
            "renewals (or parked sagas' wake-ups) run at once."),
    int_key("jobs.lease_ms", "30000", 1000, 3600000,
            "A leased job not finished within this long (its node died) runs "
            "again."),
    int_key("jobs.max_attempts", "20", 1, 100000,
            "Runs of a job that fail before it is marked dead."),
    int_key("jobs.retry_initial_ms", "1000", 1, 3600000,
            "Upper bound of the delay after a job's first failed run (full "
            "jitter); doubles per run."),
    int_key("jobs.retry_max_ms", "300000", 1, 86400000,
            "Upper bound of a failed job's retry delay."),
    int_key("ws.max_queue_frames", "4096", 1, 10000000,
            "Frames queued for one WebSocket client beyond this close it with "
            "1013 (too slow); it resumes with since."),
    int_key("ws.max_frame_bytes", "65536", 256, 16777216,
            "Client frames larger than this get an error frame (16 times "
            "larger closes the connection with 1009)."),
    int_key("ws.idle_timeout_ms", "30000", 1000, 3600000,
            "A WebSocket silent this long (no frame, no pong) is closed; "
            "pings go out at half of it."),
    int_key("ws.send_buffer_bytes", "0", 0, 67108864,
            "SO_SNDBUF of each WebSocket connection; 0 = the kernel's "
            "autotuning. A small value bounds kernel memory per subscriber "
            "and makes a stalled client visible to the queue limit sooner."),
    int_key("ws.io_threads", "2", 1, 64,
            "Threads that serve WebSocket connections, each with its own "
            "share of them: a fan-out round is sent by all in parallel."),
    str_key("ws.customer_token_secret", "", "",
            "HMAC key of customer tokens (POST /v1/customer_tokens); empty = "
            "customer tokens are refused."),
    int_key("shutdown.grace_ms", "10000", 0, 600000,
            "On SIGTERM, how long in-flight requests may take to finish."),
    int_key("shutdown.exit_timeout_ms", "5000", 100, 600000,
            "After the drain (or once the node decided to stop), how long "
            "the rest of the shutdown may take before the process ends "
            "itself with _exit."),
    {"clock.test_mode",
     ct::boolean,
     "false",
     0,
     0,
     {},
     {},
     {},
     "Test only: the node's clock (billing periods, dunning, when durable "
     "jobs are due, how long orders wait for 3-D Secure or a capture) can "
     "be moved forward with POST /v1/test_clock/advance, "
     "so a year of renewals runs in seconds. Off: that route answers 404. "
     "Never in production."},
    {"debug.fault_switches",
     ct::boolean,
     "false",
     0,
     0,
     {},
     {},
     {},
     "Test only: enables POST /v1/debug/faults, which breaks parts of the "
     "node on purpose (lose the HTTP loop, crash a saga past its restart "
     "budget). Never in production."},
  };
  return schema;
}

} // namespace kassa
