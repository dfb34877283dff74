#pragma once

// The routing table of `"provider":"auto"` orders (config payments.routes):
// which payment processors charge an order, by its currency, amount and
// country, the first of them first and the others when it is out. Plain
// code: the intake resolves an order's processors once, when it prices the
// order, and stores them with it — a later change of the table does not
// move an order that exists.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kassa {

/// One entry: `[currency=EUR|USD] [country=DE|AT] [min=<minor>]
/// [max=<minor>] -> <processor> [<fallback> ...]`. An empty condition list
/// (or `*`) matches every order.
struct payment_route {
  std::vector<std::string> currencies; ///< upper case; empty = any
  std::vector<std::string> countries;  ///< upper case; empty = any
  int64_t min_minor = 0;               ///< inclusive
  std::optional<int64_t> max_minor;    ///< inclusive
  std::vector<std::string> processors; ///< in order of preference

  bool matches(std::string_view currency, int64_t amount_minor,
               std::string_view country) const;
};

using payment_routing = std::vector<payment_route>;

/// The processors a route may name: sandbox, stripe, adyen.
const std::vector<std::string>& payment_processor_names();

/// Reads one entry; the error says what is wrong with it. `known` are the
/// processor names an entry may use.
std::variant<payment_route, std::string>
parse_payment_route(std::string_view entry,
                    const std::vector<std::string>& known);

/// The first entry matching the order, or null.
const payment_route* choose_route(const payment_routing& routes,
                                  std::string_view currency,
                                  int64_t amount_minor,
                                  std::string_view country);

/// For a priced request (`total_minor`, `currency`) whose
/// `payment.provider` is "auto": sets `payment.provider` to the chosen
/// processor and `payment.processors` to it and its fallbacks. Other
/// requests are left as they are. The error names why no processor
/// matches.
std::optional<std::string> route_payment(nlohmann::json& request,
                                         const payment_routing& routes);

} // namespace kassa
