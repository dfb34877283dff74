#pragma once

#include <string>
#include <vector>

#include "adapters/http/router.hpp"

namespace kassa {

/// Whether `key` is one of `keys` (compared in constant time).
bool api_key_matches(const std::vector<std::string>& keys,
                     std::string_view key);

/// The token a request presents: `Authorization: Bearer <t>`, else
/// `?token=<t>` (for browsers' WebSocket, which cannot set headers).
std::string presented_token(const api_request& req);

/// What every request goes through before its handler, independent of the
/// socket: routing (404/405), API-key auth (401), content type (415) and JSON
/// well-formedness (400). Plain code, tested without a server.
class api_pipeline {
public:
  api_pipeline(router routes, std::vector<std::string> api_keys);

  /// Routes `req` and either answers through `out` at once (an error) or
  /// hands it to the route's handler. Returns the metrics label of the route
  /// ("unmatched" when none matched).
  std::string dispatch(api_request req, const responder_ptr& out) const;

  const router& routes() const {
    return routes_;
  }

private:
  bool authorized(const api_request& req) const;

  router routes_;
  std::vector<std::string> api_keys_;
};

} // namespace kassa
