#pragma once

// Typed handles to supervised children that survive their restarts.
//
// A restarted child is a new actor with a new handle. Callers do not ask
// the supervisor to relay each message by name (a map lookup and a second
// enqueue on one actor every message of the node passed through); instead
// the supervisor publishes each incarnation in the child's `child_slot` the
// moment it starts and clears it when it exits, and a caller holds a
// `child_handle<Protocol>` to the slot, given to it at composition. A send
// reads the slot (a mutex, uncontended) and goes straight to the child. Only
// while the child is down does it go through the supervisor, which holds it
// for the next incarnation — the one case a relay is still for.

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/message.hpp>
#include <caf/response_type.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/atoms.hpp"
#include "runtime/worker_send.hpp"

namespace kassa {

/// The current incarnation of one supervised child (null while it is down)
/// and the supervisor that holds messages for it meanwhile. Written by the
/// supervisor only (`child_spec::slot`), read by any thread.
class child_slot {
public:
  explicit child_slot(std::string name) : name_(std::move(name)) {}

  const std::string& name() const {
    return name_;
  }

  caf::actor current() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return current_;
  }

  /// The supervisor, or null once it is gone (a weak reference: the
  /// supervisor owns the slot through the child's spec).
  caf::actor supervisor() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return caf::actor_cast<caf::actor>(supervisor_);
  }

  void set(caf::actor child, const caf::actor_addr& supervisor) {
    std::lock_guard<std::mutex> guard{mutex_};
    current_ = std::move(child);
    supervisor_ = supervisor;
  }

  void clear() {
    std::lock_guard<std::mutex> guard{mutex_};
    current_ = nullptr;
  }

private:
  std::string name_;
  mutable std::mutex mutex_;
  caf::actor current_;
  caf::actor_addr supervisor_;
};

/// Whether an actor of protocol `Handle` accepts the message `Ts...`: the
/// check CAF's own typed `send` makes, so a message a child's protocol does
/// not declare does not compile. `caf::actor` (a dynamically typed child,
/// such as a supervisor) accepts anything.
template <class Handle, class... Ts>
constexpr bool accepts_message() {
  if constexpr (std::is_same_v<Handle, caf::actor>) {
    return true;
  } else {
    using token = caf::detail::type_list<
      typename caf::detail::implicit_conversions<std::decay_t<Ts>>::type...>;
    return caf::response_type_unbox<caf::signatures_of_t<Handle>, token>::valid;
  }
}

/// A caller's handle to a supervised child speaking `Handle` (a
/// `caf::typed_actor`, or `caf::actor` for a dynamically typed child).
/// Copyable and cheap; empty when the child does not exist on this node.
template <class Handle>
class child_handle {
public:
  child_handle() = default;

  explicit child_handle(std::shared_ptr<const child_slot> slot)
    : slot_(std::move(slot)) {}

  explicit operator bool() const {
    return slot_ != nullptr;
  }

  /// Sends from `self`, on `self`'s worker (runtime/worker_send.hpp).
  template <class... Ts>
  void send(caf::local_actor* self, Ts&&... xs) const {
    static_assert(accepts_message<Handle, Ts...>(),
                  "the child's protocol declares no such message");
    if (!slot_)
      return;
    if (auto child = slot_->current())
      send_on_worker(self, child, std::forward<Ts>(xs)...);
    else if (auto sup = slot_->supervisor())
      send_on_worker(self, sup, atom::tell::value, slot_->name(),
                     caf::make_message(std::forward<Ts>(xs)...));
  }

  /// Sends from outside an actor (an Asio or database thread).
  template <class... Ts>
  void anon_send(Ts&&... xs) const {
    static_assert(accepts_message<Handle, Ts...>(),
                  "the child's protocol declares no such message");
    if (!slot_)
      return;
    if (auto child = slot_->current())
      caf::anon_send(child, std::forward<Ts>(xs)...);
    else if (auto sup = slot_->supervisor())
      caf::anon_send(sup, atom::tell::value, slot_->name(),
                     caf::make_message(std::forward<Ts>(xs)...));
  }

  /// A request from `self`; the child answers (through the supervisor's
  /// delegation while it restarts). The message is checked against the
  /// protocol; the handle returned is CAF's dynamically typed one (both
  /// routes must return the same type).
  template <class Self, class Duration, class... Ts>
  auto request(Self* self, Duration timeout, Ts&&... xs) const {
    static_assert(accepts_message<Handle, Ts...>(),
                  "the child's protocol declares no such message");
    auto child = slot_ ? slot_->current() : caf::actor{};
    if (child || !slot_)
      return self->request(child, timeout, std::forward<Ts>(xs)...);
    return self->request(slot_->supervisor(), timeout, atom::ask::value,
                         slot_->name(),
                         caf::make_message(std::forward<Ts>(xs)...));
  }

private:
  std::shared_ptr<const child_slot> slot_;
};

} // namespace kassa
