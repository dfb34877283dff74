#pragma once

// One line of an order: a SKU and how many (in provider calls, refunds by
// line and the commands that carry them). A header of its own, light: it
// travels in messages whose headers are widely included.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace kassa {

struct order_line {
  std::string sku;
  int64_t quantity = 0;

  friend bool operator==(const order_line&, const order_line&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_line& x) {
  return f(caf::meta::type_name("kassa::order_line"), x.sku, x.quantity);
}

} // namespace kassa
