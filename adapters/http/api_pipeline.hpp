#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/http/router.hpp"
#include "runtime/fault_reporter.hpp"

namespace kassa {

/// Whether `key` is one of `keys` (compared in constant time).
bool api_key_matches(const std::vector<std::string>& keys,
                     std::string_view key);

/// The token a request presents: `Authorization: Bearer <t>`, else
/// `?token=<t>` (for browsers' WebSocket, which cannot set headers).
std::string presented_token(const api_request& req);

class database_health;

/// Requests per API key: a token bucket each; over it → 429.
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
  api_pipeline(router routes, std::vector<std::string> api_keys,
               fault_reporter faults = {}, key_rate_limit limit = {},
               std::shared_ptr<const database_health> database = {});
  ~api_pipeline();
  api_pipeline(api_pipeline&&) noexcept;

  /// Routes `req` and either answers through `out` at once (an error) or
  /// hands it to the route's handler. Returns the metrics label of the route
  /// ("unmatched" when none matched).
  std::string dispatch(api_request req, const responder_ptr& out) const;

  const router& routes() const {
    return routes_;
  }

private:
  struct rate_limiter;

  bool authorized(const api_request& req) const;
  /// Seconds until the key may send again; 0: it may now.
  int64_t rate_limited(std::string_view key) const;

  router routes_;
  std::vector<std::string> api_keys_;
  fault_reporter faults_;
  std::unique_ptr<rate_limiter> limiter_; ///< null: no limit
  std::shared_ptr<const database_health> database_;
};

} // namespace kassa
