#pragma once

// The inventory's decisions, as plain code: what a reserve, release or
// commit call does to the locked product rows and an order's reservations.
// The PostgreSQL store (adapters/postgres/inventory_store.cpp) loads the
// rows a batch touches, runs `decide_reservation` for each call in order and
// writes what changed — so the rules live here, tested without a database.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "actors/provider_protocol.hpp"

namespace kassa {

/// A product's row as the batch sees it; `changed` = to be written.
struct stock_row {
  int64_t stock = 0;
  int64_t reserved = 0;
  bool changed = false;
};

/// One order's hold on one SKU: `held`, `committed` or `released`.
struct reservation_row {
  int64_t quantity = 0;
  std::string status;
  bool is_new = false;
  bool changed = false;
};

using reservation_key = std::pair<std::string, std::string>; // order, sku
using stock_rows = std::map<std::string, stock_row>;
using reservation_rows = std::map<reservation_key, reservation_row>;

/// One call (`op` reserve, release or commit) against the rows: applied to
/// them and answered `ok` (ref = the order), or refused `permanent` with the
/// rows untouched. The rules:
/// - reserve: every line (repeated SKUs summed) must name a product with
///   enough unreserved stock, else nothing is reserved; a SKU the order
///   already holds is skipped (a retry changes nothing);
/// - release / commit: every `held` reservation of the order is released
///   (reserved stock freed) or committed (stock and reserved both go down);
///   others are left alone, so a repeat changes nothing;
/// - anything else is refused.
provider_result decide_reservation(const provider_call& call,
                                   stock_rows& products,
                                   reservation_rows& reservations);

} // namespace kassa
