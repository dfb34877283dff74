#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"

namespace kassa {

/// A product as the API shows it. `stock` is on hand, `reserved` is held by
/// live orders; `stock - reserved` can be sold.
struct product {
  std::string sku;
  std::string name;
  int64_t price_minor = 0;
  std::string currency;
  int64_t stock = 0;
  int64_t reserved = 0;

  friend bool operator==(const product&, const product&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, product& x) {
  return f(caf::meta::type_name("kassa::product"), x.sku, x.name, x.price_minor,
           x.currency, x.stock, x.reserved);
}

/// `{"delta": n}` or `{"set": n}` on a product's stock.
struct stock_change {
  bool absolute = false; ///< true: set to `amount`; false: add `amount`.
  int64_t amount = 0;

  friend bool operator==(const stock_change&, const stock_change&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_change& x) {
  return f(caf::meta::type_name("kassa::stock_change"), x.absolute, x.amount);
}

/// Idempotency of one mutating request: the key the client sent (empty: none)
/// and a hash of what it asked, so a reused key with another body is caught.
struct idempotency {
  std::string scope;
  std::string key;
  std::string request_hash;

  friend bool operator==(const idempotency&, const idempotency&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idempotency& x) {
  return f(caf::meta::type_name("kassa::idempotency"), x.scope, x.key,
           x.request_hash);
}

/// Where the inventory keeps products and reservations. Implemented in
/// adapters/postgres (and by fakes in tests). Every call returns at once; the
/// work runs off the actor threads and `done` is called from another thread
/// with the HTTP answer (API.md shapes and statuses).
class inventory_store {
public:
  virtual ~inventory_store() = default;
  virtual void create_product(product p, idempotency idem, reply_ptr done) = 0;
  virtual void get_product(std::string sku, reply_ptr done) = 0;
  virtual void change_stock(std::string sku, stock_change change,
                            idempotency idem, reply_ptr done)
    = 0;
  /// Reservations of orders (`call.op`: reserve, release, commit), every
  /// call of the batch in ONE transaction (group commit: a hot product row
  /// is locked once per batch, not once per order); idempotent per order.
  /// Calls `done` (from another thread) with every call's answer and the
  /// actor to send it to, once the batch is over.
  virtual void reservations(std::vector<provider_call> calls,
                            std::function<void(provider_replies)> done)
    = 0;
};

/// Number of inventory shards; a SKU's shard is `inventory_shard(sku)`.
constexpr size_t inventory_shards = 4;
size_t inventory_shard(std::string_view sku);

/// Supervisor child name of shard `i` ("inventory-0", ...).
std::string inventory_child_name(size_t shard);

/// One inventory shard. Protocol (`inventory_actor`; replies go to the
/// `reply_ptr`):
/// - `(atom::create, product, idempotency, reply_ptr)`
/// - `(atom::get, std::string sku, reply_ptr)`
/// - `(atom::update, sku, stock_change, idempotency, reply_ptr)`
/// - `(atom::call, provider_call)`: reserve / release / commit for a saga
/// Every SKU is owned by one shard, so per-SKU work is ordered; the store's
/// conditional updates keep stock from going negative or oversold even across
/// nodes.
using inventory_actor = caf::typed_actor<
  caf::reacts_to<atom::create, product, idempotency, reply_ptr>,
  caf::reacts_to<atom::get, std::string, reply_ptr>,
  caf::reacts_to<atom::update, std::string, stock_change, idempotency,
                 reply_ptr>,
  caf::reacts_to<atom::call, provider_call>>;

/// `may_send`: whether a saga's call may be made now — false for an order
/// whose shard the node may have lost (docs/cluster.md, self-fencing): the
/// call is answered `transient` ("not sent") and the store is not touched,
/// as a provider connection does. Empty: every call.
caf::actor spawn_inventory(caf::local_actor* parent,
                           std::shared_ptr<inventory_store> store,
                           std::function<bool(const provider_call&)> may_send
                           = {});

} // namespace kassa
