#pragma once

// Sends from an actor on the scheduler, without naming a sender.

#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>
#include <caf/typed_actor.hpp>

namespace kassa {

/// `caf::anon_send(dest, xs...)` from inside `self`, on `self`'s worker.
/// CAF 0.17 queues the receiver of an anonymous send on the scheduler's
/// shared queue (a mutex and, when the chosen worker sleeps, a futex
/// wake-up each: on this 2-core box a context switch costs more than most
/// handlers); a send carrying the sender's execution unit queues it on the
/// worker already running, after the sender (scheduled_actor::enqueue).
/// From a thread outside the scheduler (a database thread, Asio) there is
/// no such unit: hand a batch's answers back in ONE message to an actor
/// that sends them on with this.
template <class... Ts>
void send_on_worker(caf::local_actor* self, const caf::actor& dest,
                    Ts&&... xs) {
  if (!dest)
    return;
  caf::actor_cast<caf::abstract_actor*>(dest)->enqueue(
    nullptr, caf::make_message_id(), caf::make_message(std::forward<Ts>(xs)...),
    self->context());
}

/// The same to a typed handle: the message is checked against its
/// protocol (CAF's own check, as a typed send makes).
template <class... Sigs, class... Ts>
void send_on_worker(caf::local_actor* self,
                    const caf::typed_actor<Sigs...>& dest, Ts&&... xs) {
  using token = caf::detail::type_list<
    typename caf::detail::implicit_conversions<std::decay_t<Ts>>::type...>;
  static_assert(
    caf::response_type_unbox<caf::detail::type_list<Sigs...>, token>::valid,
    "the receiver's protocol declares no such message");
  send_on_worker(self, caf::actor_cast<caf::actor>(dest),
                 std::forward<Ts>(xs)...);
}

} // namespace kassa
