#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/api.hpp"

namespace kassa {

/// What a route needs from the pipeline before its handler runs.
struct route_options {
  /// Needs `Authorization: Bearer <key>` (every /v1/ route but webhooks).
  bool authenticated = true;
  /// Takes a JSON body: Content-Type must be JSON (415) and the body must
  /// parse (400) before the handler sees it.
  bool json_body = false;
  /// Changes what the database keeps: while the node has lost its database
  /// a request with a method other than GET is answered 503
  /// `database_unavailable` with Retry-After before its handler runs, so
  /// nothing is half-created.
  bool needs_database = true;
};

/// Handles one matched request. Runs on an HTTP I/O thread: it must not
/// block; it answers through `out` now or later, from any thread.
using route_handler = std::function<void(api_request& req, responder_ptr out)>;

struct route {
  std::string method;
  std::string pattern; ///< e.g. "/v1/orders/{id}/cancel"
  std::string name;    ///< Metrics label, e.g. "orders.cancel".
  route_options options;
  route_handler handler;
};

/// The routing table: literal segments and {param} segments, exact length.
class router {
public:
  void add(route r);

  struct match_result {
    const route* found = nullptr; ///< Null: no route (see `allowed`).
    std::vector<std::pair<std::string, std::string>> params;
    /// Methods the path supports when `found` is null but the path exists
    /// (→ 405 with an Allow header); empty → 404.
    std::vector<std::string> allowed;
  };

  match_result match(std::string_view method, std::string_view path) const;

  const std::vector<route>& routes() const {
    return routes_;
  }

private:
  std::vector<route> routes_;
};

} // namespace kassa
