#include "actors/reservations.hpp"

#include <vector>

namespace kassa {

namespace {

provider_result refuse(const provider_call& call, std::string error) {
  return {
    call.message_id, provider_outcome::permanent, {}, std::move(error), 0};
}

provider_result reserve(const provider_call& call, stock_rows& products,
                        reservation_rows& reservations) {
  std::map<std::string, int64_t> wanted; // SKU order, repeats summed
  for (auto& line : call.lines) {
    if (line.quantity <= 0)
      return refuse(call, "invalid_quantity: " + line.sku);
    wanted[line.sku] += line.quantity;
  }
  auto tentative = products;
  std::vector<reservation_key> added;
  for (auto& [sku, quantity] : wanted) {
    reservation_key key{call.order_id, sku};
    if (reservations.contains(key))
      continue; // reserved before: a retry, nothing to do
    auto p = tentative.find(sku);
    if (p == tentative.end())
      return refuse(call, "unknown_sku: no product " + sku);
    if (p->second.stock - p->second.reserved < quantity)
      return refuse(call, "insufficient_stock: not enough " + sku);
    p->second.reserved += quantity;
    p->second.changed = true;
    added.push_back(key);
  }
  products = std::move(tentative);
  for (auto& key : added)
    reservations[key] = {wanted[key.second], "held", true, true};
  return {call.message_id, provider_outcome::ok, call.order_id, {}, 0};
}

provider_result settle(const provider_call& call, bool commit,
                       stock_rows& products, reservation_rows& reservations) {
  for (auto it = reservations.lower_bound({call.order_id, {}});
       it != reservations.end() && it->first.first == call.order_id; ++it) {
    auto& row = it->second;
    if (row.status != "held")
      continue;
    row.status = commit ? "committed" : "released";
    row.changed = true;
    auto& p = products[it->first.second];
    p.reserved -= row.quantity;
    if (commit)
      p.stock -= row.quantity;
    p.changed = true;
  }
  return {call.message_id, provider_outcome::ok, call.order_id, {}, 0};
}

} // namespace

provider_result decide_reservation(const provider_call& call,
                                   stock_rows& products,
                                   reservation_rows& reservations) {
  if (call.op == "reserve")
    return reserve(call, products, reservations);
  if (call.op == "release" || call.op == "commit")
    return settle(call, call.op == "commit", products, reservations);
  return refuse(call, "unsupported inventory operation " + call.op);
}

} // namespace kassa
