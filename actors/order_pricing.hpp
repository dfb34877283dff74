#pragma once

// Pricing an order and minting its id: the intake's decisions as plain
// code (adapters/postgres/order_intake.cpp reads the prices and stores the
// result in one transaction), tested without a database.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace kassa {

struct unit_price {
  int64_t minor = 0;
  std::string currency;
};

/// The prices of the SKUs an order batch names.
using price_list = std::map<std::string, unit_price>;

/// Why an order cannot be priced: item `item`'s SKU `why`.
struct pricing_refusal {
  size_t item = 0;
  std::string why;
};

/// Adds each item's `unit_price_minor`, the order's `total_minor` and
/// `currency` to a normalized request (`items[].sku`, `items[].quantity`),
/// or says which item cannot be sold: a SKU with no product, or a
/// currency other than the first item's (one order, one currency).
/// Pricing the same request again gives the same values.
std::optional<pricing_refusal> price_order(nlohmann::json& request,
                                           const price_list& prices);

/// A new order id: "ord_" + the milliseconds since the epoch in 12 hex
/// digits + 32 random bits in 8, so ids sort by creation time and two
/// nodes minting in the same millisecond collide once in 2^32 per pair.
std::string new_order_id(std::chrono::system_clock::time_point now,
                         uint32_t random);

} // namespace kassa
