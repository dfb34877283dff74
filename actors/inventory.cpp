#include "actors/inventory.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/type_ids.hpp"
#include "runtime/group_commit.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

size_t inventory_shard(std::string_view sku) {
  // FNV-1a: stable across processes and nodes (std::hash is not).
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : sku) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h % inventory_shards);
}

std::string inventory_child_name(size_t shard) {
  return "inventory-" + std::to_string(shard);
}

namespace {

struct inventory_state {
  static inline const char* name = "inventory";
  std::shared_ptr<inventory_store> store;
  std::function<bool(const provider_call&)> may_send;
  /// Reservation calls waiting for the batch in flight to commit.
  group_commit_queue<provider_call> queue;
};

/// The shard's protocol and what only its own store sends it: a batch's
/// answers.
using inventory_impl
  = inventory_actor::extend<caf::reacts_to<atom::done, provider_replies>>;
using inventory_pointer = inventory_impl::stateful_pointer<inventory_state>;

/// Everything queued goes into one transaction, like the journal.
void write_batch(inventory_pointer self) {
  auto& st = self->state;
  auto batch = st.queue.take();
  if (!batch)
    return;
  auto me = caf::actor_cast<caf::actor>(self);
  // The answers come back in one message and leave from this actor's
  // worker (runtime/worker_send.hpp).
  st.store->reservations(std::move(*batch), [me](provider_replies replies) {
    caf::anon_send(me, atom::done::value, std::move(replies));
  });
}

inventory_impl::behavior_type
inventory(inventory_pointer self, std::shared_ptr<inventory_store> store,
          std::function<bool(const provider_call&)> may_send) {
  self->state.store = std::move(store);
  self->state.may_send = std::move(may_send);
  return {
    [self](atom::create, product& p, idempotency& idem, reply_ptr& out) {
      self->state.store->create_product(std::move(p), std::move(idem),
                                        std::move(out));
    },
    [self](atom::get, std::string& sku, reply_ptr& out) {
      self->state.store->get_product(std::move(sku), std::move(out));
    },
    [self](atom::update, std::string& sku, stock_change change,
           idempotency& idem, reply_ptr& out) {
      self->state.store->change_stock(std::move(sku), change, std::move(idem),
                                      std::move(out));
    },
    [self](atom::call, provider_call& call) {
      if (self->state.may_send && !self->state.may_send(call)) {
        // The node may have lost the order's shard: its new holder decides.
        provider_result r;
        r.message_id = call.message_id;
        r.outcome = provider_outcome::transient;
        r.error = "not sent: this node's lease on the order's shard may have "
                  "run out";
        send_on_worker(self, call.reply_to, std::move(r));
        return;
      }
      self->state.queue.push(std::move(call));
      write_batch(self);
    },
    [self](atom::done, provider_replies& replies) {
      for (size_t i = 0; i < replies.to.size(); ++i)
        send_on_worker(self, replies.to[i], std::move(replies.results[i]));
      self->state.queue.done();
      write_batch(self);
    },
  };
}

} // namespace

caf::actor spawn_inventory(caf::local_actor* parent,
                           std::shared_ptr<inventory_store> store,
                           std::function<bool(const provider_call&)> may_send) {
  return caf::actor_cast<caf::actor>(
    parent->spawn(inventory, std::move(store), std::move(may_send)));
}

} // namespace kassa
