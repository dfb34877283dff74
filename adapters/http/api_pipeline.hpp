#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/http/router.hpp"
#include "runtime/fault_reporter.hpp"

namespace kassa {

/// The token a request presents: `Authorization: Bearer <t>`, else
/// `?token=<t>` (for browsers' WebSocket, which cannot set headers).
std::string presented_token(const api_request& req);

class database_health;

/// Requests per API key: a token bucket each; over it → 429.
/// One audited request (route_options::audited): who, what, how it ended.
struct audit_entry {
  principal who;
  std::string action; ///< the route's name, e.g. "jobs.retry"
  std::string method;
  std::string path;
  std::string request_id;
  std::string body;  ///< the request's body (at most 4 KiB of it)
  int status = 0;    ///< the answer's HTTP status
  int64_t at_ms = 0; ///< when it was answered (ms since the epoch)
};

/// Where audit entries go (the node writes them to the database); it is
/// called on the thread that answers and must not block.
using audit_sink = std::function<void(audit_entry)>;

struct key_rate_limit {
  double per_s = 0; ///< 0: no limit
  double burst = 100;
};

/// What every request goes through before its handler, independent of the
/// socket: API-key auth (401), the key's rate limit (429 with Retry-After),
/// routing (404/405), content type (415) and JSON well-formedness (400,
/// naming the field). Plain code, tested without a server; `dispatch` may be
/// called from several threads at once.
class api_pipeline {
public:
  /// `faults` reports what a handler throws (a bug: the client gets 500).
  /// `database`: while it is down, commands (see route_options::
  /// needs_database) answer 503 at once; null: never.
  /// `keys`: who may call /v1/ (their roles checked per route); `audit`:
  /// where operator actions are recorded (null: nowhere).
  api_pipeline(router routes, std::shared_ptr<const key_registry> keys,
               fault_reporter faults = {}, key_rate_limit limit = {},
               std::shared_ptr<const database_health> database = {},
               audit_sink audit = {});
  ~api_pipeline();
  api_pipeline(api_pipeline&&) noexcept;

  /// Accepts customer tokens (adapters/http/customer_token.hpp) signed
  /// with `secret` on the routes marked `customer_access` (empty: none).
  void accept_customer_tokens(std::string secret);

  /// Routes `req` and either answers through `out` at once (an error) or
  /// hands it to the route's handler. Returns the metrics label of the route
  /// ("unmatched" when none matched).
  std::string dispatch(api_request req, const responder_ptr& out) const;

  const router& routes() const {
    return routes_;
  }

private:
  struct rate_limiter;

  std::shared_ptr<const principal> authenticate(const api_request& req) const;
  /// `out`, recording the request in the audit journal when it answers.
  responder_ptr audited(const std::string& action, const api_request& req,
                        const responder_ptr& out) const;
  /// Seconds until the key may send again; 0: it may now.
  int64_t rate_limited(std::string_view key) const;

  router routes_;
  std::shared_ptr<const key_registry> keys_;
  fault_reporter faults_;
  std::unique_ptr<rate_limiter> limiter_; ///< null: no limit
  std::shared_ptr<const database_health> database_;
  audit_sink audit_;
  std::string customer_secret_;
};

} // namespace kassa
