#pragma once

// An order saga's protocol and the directory that reaches a saga by its
// order's id. Apart from order_saga.hpp so that what only sends to sagas
// (routes, jobs, the intake) needs neither the saga's dependencies nor its
// store interface.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/journal.hpp"
#include "actors/provider_protocol.hpp"
#include "actors/reply.hpp"
#include "actors/type_ids.hpp" // what make_message may carry
#include "runtime/child_handle.hpp"
#include "runtime/supervisor_protocol.hpp"

namespace kassa {

/// What others send an order saga: its store's load (or why it failed),
/// the answer to a provider call, a customer's commands and a job's
/// wake-up. What it sends itself (timers, retries) is added in
/// order_saga_actor.hpp.
using order_saga_actor = caf::typed_actor<
  caf::reacts_to<atom::loaded, std::string, std::vector<journal_entry>>,
  caf::reacts_to<caf::error>, caf::reacts_to<provider_result>,
  caf::reacts_to<atom::cancel, reply_ptr>,
  caf::reacts_to<atom::confirm, std::string, reply_ptr>,
  caf::reacts_to<atom::capture, int64_t, std::string, bool, reply_ptr>,
  caf::reacts_to<atom::void_auth, reply_ptr>,
  caf::reacts_to<atom::refund, int64_t, std::string, std::string,
                 std::vector<order_line>, reply_ptr>,
  caf::reacts_to<atom::dispute, dispute_notice, reply_ptr>,
  caf::reacts_to<atom::settle, payment_notice, reply_ptr>,
  caf::reacts_to<atom::retry_comp, reply_ptr>,
  caf::reacts_to<atom::resolve, std::string, std::string, reply_ptr>,
  caf::reacts_to<atom::resume>,
  caf::reacts_to<atom::passivate>>; // the supervisor: it may exit now

/// How a saga is started: the child spec of the saga of an order id.
using saga_starter = std::function<child_spec(std::string order_id)>;

/// The node's sagas, reached through the `sagas` supervisor, which starts,
/// restarts, pauses and stops them. A saga lives for one order and is
/// addressed by the order's id, so a message for it goes to the supervisor
/// with that id (`(tell, id, message)`) and is delivered from there — held
/// while the saga (re)starts or waits for a running slot. That is the one
/// relay by name the house keeps, on purpose: a handle per saga would have
/// to be looked up (a request and its answer: two hops, not one) and would
/// go stale at every restart; what is sent this way is a customer's command
/// or a job's wake-up, never a step of the order path. The message is
/// checked at compile time against `order_saga_actor`, what is sent to the
/// supervisor against `supervisor_actor`.
class saga_directory {
public:
  saga_directory() = default;

  explicit saga_directory(child_handle<supervisor_actor> supervisor,
                          std::shared_ptr<const saga_starter> starter = {})
    : supervisor_(std::move(supervisor)), starter_(std::move(starter)) {}

  explicit operator bool() const {
    return static_cast<bool>(supervisor_);
  }

  /// Delivers `xs...` to the saga of `order_id` (from outside an actor, or
  /// where the sender's identity does not matter: sagas answer commands
  /// through the `reply_ptr` they carry).
  template <class... Ts>
  void tell(const std::string& order_id, Ts&&... xs) const {
    static_assert(accepts_message<order_saga_actor, Ts...>(),
                  "an order saga's protocol declares no such message");
    supervisor_.anon_send(atom::tell::value, order_id,
                          caf::make_message(std::forward<Ts>(xs)...));
  }

  /// The same for an order whose saga may not run here at this moment (a
  /// node that just started adds its unfinished sagas a moment later; a
  /// saga may be exiting; a completed order's has ended): the saga is
  /// started first (`add` skips a running one; a finished saga loads, does
  /// what it is told and exits again). Without a starter, `tell`.
  template <class... Ts>
  void start_and_tell(const std::string& order_id, Ts&&... xs) const {
    static_assert(accepts_message<order_saga_actor, Ts...>(),
                  "an order saga's protocol declares no such message");
    if (!starter_ || !*starter_) {
      tell(order_id, std::forward<Ts>(xs)...);
      return;
    }
    // One message: the saga cannot finish between its start and the
    // delivery (an `add` and a `tell` could see it exit in between).
    supervisor_.anon_send(atom::tell::value, (*starter_)(order_id),
                          caf::make_message(std::forward<Ts>(xs)...));
  }

  /// The supervisor itself: starting (`add`), restarting, listing and
  /// stopping sagas, and a saga's idle reports.
  const child_handle<supervisor_actor>& supervisor() const {
    return supervisor_;
  }

private:
  child_handle<supervisor_actor> supervisor_;
  std::shared_ptr<const saga_starter> starter_;
};

} // namespace kassa
