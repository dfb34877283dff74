#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

namespace kassa {

/// Why a command was refused or failed, in the domain's words. Actors and
/// stores answer with these; the API edge maps each to an HTTP status and
/// the JSON error shape of API.md in one table (node/replies.cpp). The
/// name of each (`to_string`) is how an idempotency record stores it.
enum class failure_code : uint8_t {
  invalid_field,          ///< a field breaks a rule; `field` names it
  idempotency_key_reused, ///< the key came before with another request
  product_not_found,
  product_exists,
  stock_conflict, ///< stock would fall below what orders hold
  order_not_found,
  order_finished,          ///< a command to a saga that has ended
  order_not_cancellable,   ///< shipped or finished
  not_waiting,             ///< a 3-D Secure confirmation nobody waits for
  not_awaiting_capture,    ///< a capture or void of an order not authorized
                           ///< and waiting for it
  order_not_refundable,    ///< a refund of an order that is not completed
  refund_exceeds_captured, ///< more than was captured minus refunded
  provider_not_found,
  database_unavailable,   ///< nothing was changed; the same request may
                          ///< be sent again
  commit_outcome_unknown, ///< the answer to COMMIT was lost: the same
                          ///< request with the same key tells the outcome
  not_owner,              ///< the shard is held elsewhere or by nobody
                          ///< yet (a failover): retry in a moment
  unanswered, ///< a command was lost before anything answered it (its saga
              ///< stopped or moved meanwhile): outcome unknown, send again
  internal,   ///< a bug or an exhausted resource
  plan_not_found,
  plan_changed, ///< another version of the plan was made meanwhile
  subscription_not_found,
  subscription_state, ///< a command the subscription's status forbids
  job_not_found,
  job_state, ///< a retry or cancel the job's status forbids (it is running)
  order_not_failed, ///< an operator's retry or resolution of an order that
                    ///< has not failed
  message_not_found,
  template_not_found,
  customer_not_found,
  customer_exists,
  ticket_not_found,
  ticket_state, ///< a message or status change a closed ticket refuses
};

/// The stable name of `code` ("stock_conflict").
std::string_view to_string(failure_code code);

/// The code named `name`, if any.
std::optional<failure_code> failure_code_from_string(std::string_view name);

/// A refusal or failure: what went wrong and, for bad input, which field.
struct failure {
  failure_code code = failure_code::internal;
  std::string message;
  std::string field;

  friend bool operator==(const failure&, const failure&) = default;
};

/// How a command ended: its result as JSON, or a failure. No HTTP here:
/// `created` and `accepted` say what happened (a new resource; work that
/// goes on after the answer), the edge says which status that is.
struct reply {
  enum class kind : uint8_t { done, created, accepted, failed };

  kind what = kind::done;
  std::string body;      ///< the result's JSON; empty when failed
  failure error;         ///< set when failed
  bool replayed = false; ///< the stored reply of an earlier request with
                         ///< the same Idempotency-Key

  bool failed() const {
    return what == kind::failed;
  }

  static reply done(std::string json) {
    return {kind::done, std::move(json), {}, false};
  }
  static reply created(std::string json) {
    return {kind::created, std::move(json), {}, false};
  }
  static reply accepted(std::string json) {
    return {kind::accepted, std::move(json), {}, false};
  }
  static reply fail(failure_code code, std::string message,
                    std::string field = {}) {
    return {
      kind::failed, {}, {code, std::move(message), std::move(field)}, false};
  }

  friend bool operator==(const reply&, const reply&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure& x) {
  return f(caf::meta::type_name("kassa::failure"), x.code, x.message, x.field);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(caf::meta::type_name("kassa::reply"), x.what, x.body, x.error,
           x.replayed);
}

/// The stable name of `what` ("created"; "failed" for failures).
std::string_view to_string(reply::kind what);

/// `database_unavailable` with `detail` (the driver's words, if any).
reply database_unavailable(std::string_view detail);

/// `commit_outcome_unknown` with `detail`.
reply commit_outcome_unknown(std::string_view detail);

/// Where a reply goes. The API edge implements it (turning the reply into
/// an HTTP response); `send` may be called from any thread exactly once and
/// returns at once, so no actor waits on a socket.
class reply_to {
public:
  virtual ~reply_to() = default;
  virtual void send(reply r) = 0;
};

using reply_ptr = std::shared_ptr<reply_to>;

/// A reply that goes to `f` (a callback instead of a client: a webhook's
/// answer made from the saga's, the sandbox's notices).
reply_ptr reply_to_function(std::function<void(reply)> f);

} // namespace kassa
