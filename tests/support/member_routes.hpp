#pragma once

// The routes a customer token may call (the member area), as
// "<method> <pattern>". A unit test checks the router marks exactly these
// (route_options::customer_access) and docs/openapi.yaml says so
// (x-customer-token); the integration test walks every one with another
// customer's ids.

#include <set>
#include <string>

namespace kassa::test {

inline const std::set<std::string>& member_routes() {
  static const std::set<std::string> routes{
    "get /v1/whoami",
    "get /v1/customers/{id}",
    "get /v1/orders",
    "get /v1/orders/{id}",
    "get /v1/subscriptions",
    "get /v1/subscriptions/{id}",
    "post /v1/subscriptions/{id}/cancel",
    "get /v1/tickets",
    "post /v1/tickets",
    "get /v1/tickets/{id}",
    "post /v1/tickets/{id}/messages",
  };
  return routes;
}

} // namespace kassa::test
