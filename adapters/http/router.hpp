#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/api.hpp"
#include "runtime/access.hpp"

namespace kassa {

/// What a route needs from the pipeline before its handler runs.
struct route_options {
  // A constructor, not an aggregate: routes say `{true, true}` and leave
  // the role and audit fields to their defaults without a warning.
  route_options(bool authenticated_ = true, bool json_body_ = false,
                bool needs_database_ = true)
    : authenticated(authenticated_), json_body(json_body_),
      needs_database(needs_database_) {}

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
  /// The least role that may call it; unset: `read_only` for GET, `service`
  /// otherwise (403 `forbidden` below it).
  std::optional<key_role> role;
  /// An operator's action: who called it, when, on what and how it ended
  /// are written to the audit journal (the pipeline's audit sink).
  bool audited = false;
  /// A customer token may call it (the member area's routes); the handler
  /// keeps it to that customer's data (404 for anyone else's).
  bool customer_access = false;
};

/// A command a shop's back end or an operator sends that changes what
/// money or goods do (cancel, capture, refund, void): audited, `service`.
inline route_options audited_command(bool json_body = false) {
  route_options o;
  o.json_body = json_body;
  o.audited = true;
  return o;
}

/// A member-area route: a customer token may call it too (a read, or
/// with `json_body` a command that takes a JSON body).
inline route_options member_route(bool json_body) {
  route_options o{true, json_body};
  o.customer_access = true;
  return o;
}

/// A member-area command that moves money or goods (audited).
inline route_options member_command(bool json_body = false) {
  auto o = audited_command(json_body);
  o.customer_access = true;
  return o;
}

/// A route's options for an operator's action (audited, `operator` role).
inline route_options operator_action(bool json_body = false) {
  route_options o;
  o.json_body = json_body;
  o.role = key_role::operator_;
  o.audited = true;
  return o;
}

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
