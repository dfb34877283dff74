#include "actors/order_pricing.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace kassa {

std::optional<pricing_refusal> price_order(nlohmann::json& request,
                                           const price_list& prices) {
  int64_t total = 0;
  std::string currency;
  auto& items = request["items"];
  for (size_t i = 0; i < items.size(); ++i) {
    auto sku = items[i]["sku"].get<std::string>();
    auto p = prices.find(sku);
    if (p == prices.end())
      return pricing_refusal{i, "no product " + sku};
    if (!currency.empty() && currency != p->second.currency)
      return pricing_refusal{i, "all items must share one currency"};
    currency = p->second.currency;
    items[i]["unit_price_minor"] = p->second.minor;
    total += p->second.minor * items[i]["quantity"].get<int64_t>();
  }
  request["total_minor"] = total;
  request["currency"] = currency;
  return std::nullopt;
}

std::string new_order_id(std::chrono::system_clock::time_point now,
                         uint32_t random) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              now.time_since_epoch())
              .count();
  char buf[32];
  std::snprintf(buf, sizeof(buf), "ord_%012llx%08llx",
                static_cast<unsigned long long>(ms) & 0xffffffffffffull,
                static_cast<unsigned long long>(random));
  return buf;
}

} // namespace kassa
