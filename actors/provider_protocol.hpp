#pragma once

// How a saga talks to the things that perform its effects: the inventory and
// provider connections (sandbox now; Billingo and Stripe adapters later).
// A call carries the actor to answer and a message id; the answer is a plain
// message carrying the same id, so a saga ignores a late or duplicate one.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/order_line.hpp"

namespace kassa {

enum class provider_outcome : uint8_t {
  ok,              ///< done; `ref` names the effect (or is empty: not found)
  transient,       ///< nothing happened that matters; retry later
  permanent,       ///< refused for good (declined card, 4xx)
  action_required, ///< the customer must act (3-D Secure)
  unknown,         ///< no answer (timeout): the effect may have happened
  unavailable,     ///< not sent: the provider's circuit is open; park
  /// Taken, decided later (Adyen's `Pending`/`Received`): `ref` names the
  /// payment; the processor's webhook settles it.
  pending,
};

struct provider_result {
  std::string message_id;
  provider_outcome outcome = provider_outcome::ok;
  std::string ref;
  std::string error;
  /// transient / unavailable: when the provider may take calls again
  /// (Retry-After, or when an open circuit lets probes through); 0 = unknown.
  int64_t retry_after_ms = 0;
  /// An earlier attempt of this call (a connection's own retry) may have
  /// reached the provider — it timed out or lost its answer — so whatever
  /// this answer says, the effect may exist (a payment is not moved to
  /// another processor).
  bool maybe_sent = false;

  friend bool operator==(const provider_result&, const provider_result&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_result& x) {
  return f(caf::meta::type_name("kassa::provider_result"), x.message_id,
           x.outcome, x.ref, x.error, x.retry_after_ms, x.maybe_sent);
}

/// Where the answer to a call goes: whoever made the call (a saga, or a
/// connection for its adapter's answers). A typed handle, so every send of
/// a result is checked against what the receiver declares.
using provider_result_sink = caf::typed_actor<caf::reacts_to<provider_result>>;

/// One effect to perform. `op` is the provider's verb:
/// payment: charge, refund · invoicing: find_invoice, invoice, storno ·
/// shipping: shipment, cancel_shipment · messaging: message ·
/// inventory: reserve, release, commit.
struct provider_call {
  std::string message_id;      ///< <order>:<step>:<attempt>[:phase]
  std::string idempotency_key; ///< <order>:<step>[:compensation]
  std::string op;
  std::string order_id;
  int64_t amount_minor = 0;
  std::string currency;
  std::string token;  ///< payment token (tok_ok, tok_decline, tok_3ds)
  std::string ref;    ///< the earlier effect this one acts on
  std::string detail; ///< address, message text, ...
  std::vector<order_line> lines;
  provider_result_sink reply_to;

  friend bool operator==(const provider_call&, const provider_call&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_call& x) {
  return f(caf::meta::type_name("kassa::provider_call"), x.message_id,
           x.idempotency_key, x.op, x.order_id, x.amount_minor, x.currency,
           x.token, x.ref, x.detail, x.lines, x.reply_to);
}

/// `provider_call.detail` of a charge run again after the customer's 3-D
/// Secure: "3ds_confirmed", then `:` and what the shopper's return carried
/// (a JSON object, for processors that are sent it: Adyen's
/// /payments/details) when the shop gave it.
inline constexpr std::string_view three_ds_confirmed = "3ds_confirmed";

inline bool is_three_ds_confirmation(std::string_view detail) {
  return detail.substr(0, three_ds_confirmed.size()) == three_ds_confirmed
         && (detail.size() == three_ds_confirmed.size()
             || detail[three_ds_confirmed.size()] == ':');
}

/// The shopper's details of a confirmation ("" when none were given).
inline std::string_view three_ds_details(std::string_view detail) {
  return is_three_ds_confirmation(detail)
             && detail.size() > three_ds_confirmed.size()
           ? detail.substr(three_ds_confirmed.size() + 1)
           : std::string_view{};
}

/// `provider_call.detail` of a capture that is not the authorization's
/// last: the processor keeps the rest authorized for more captures.
inline constexpr std::string_view partial_capture = "partial";

/// The answers to the calls of one batch, in call order: a database thread
/// hands them back in one message and an actor sends them on
/// (runtime/worker_send.hpp says why).
struct provider_replies {
  std::vector<provider_result_sink> to;
  std::vector<provider_result> results;

  friend bool operator==(const provider_replies&, const provider_replies&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_replies& x) {
  return f(caf::meta::type_name("kassa::provider_replies"), x.to, x.results);
}

/// Sandbox behaviour set by POST /v1/providers/{name}/chaos.
struct chaos_settings {
  double failure_rate = 0; ///< share of calls failing transiently, 0..1
  int64_t latency_ms = 0;  ///< added before each call's effect
  bool outage = false;     ///< every call fails transiently

  friend bool operator==(const chaos_settings&, const chaos_settings&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chaos_settings& x) {
  return f(caf::meta::type_name("kassa::chaos_settings"), x.failure_rate,
           x.latency_ms, x.outage);
}

/// What performs a saga's effects — a provider connection
/// (actors/provider_connection.hpp) or an inventory shard
/// (actors/inventory.hpp): `(call, provider_call)`, answered with one
/// `provider_result` carrying the call's message id, sent to
/// `call.reply_to`.
using provider_actor
  = caf::typed_actor<caf::reacts_to<atom::call, provider_call>>;

} // namespace kassa
