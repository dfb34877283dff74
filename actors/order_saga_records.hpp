#pragma once

// How an order saga's state becomes journal rows and views and back:
// plain conversions, kept apart from the actor (order_saga.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/journal.hpp"
#include "actors/order_saga_logic.hpp"
#include "actors/provider_protocol.hpp"

namespace kassa {

/// The parts of the order request a saga needs.
struct order_data {
  std::vector<order_line> lines;
  /// Each line's unit price as priced at the intake (same order as lines).
  std::vector<int64_t> unit_prices;
  int64_t total_minor = 0;
  std::string currency;
  std::string customer_id;
  std::string customer_email;
  std::string payment_token;
  std::string shipping_address;
  std::string payment_provider = "sandbox"; ///< sandbox | stripe | adyen
  /// The processors that may charge it, in order (`"provider":"auto"`:
  /// from the routing table; else the one provider).
  std::vector<std::string> payment_processors;
  std::string invoicing_provider = "sandbox"; ///< sandbox | billingo
  /// `"capture":"manual"`: authorize at checkout, capture on command.
  bool manual_capture = false;
};

/// Reads the stored (normalized) order request.
order_data parse_order(const std::string& request_json);

/// The same from the request already parsed (the intake has it as JSON:
/// a new saga starts without parsing its request again).
order_data order_from_json(const nlohmann::json& request);

/// The view of a state that `GET /v1/orders` shows: steps, invoice, payment,
/// shipment (JSON). Folded from the journal when an order is read.
std::string order_view_json(const saga_state& s, const order_data& order);

/// Order lines as the API shows them (`[{"sku","quantity"}]`).
nlohmann::json lines_json(const std::vector<order_line>& lines);

/// A dispute as the API shows it (in an order and in GET /v1/disputes).
nlohmann::json dispute_json(const dispute_state& d);

/// The saga event a journal row records.
saga_event event_of(const journal_entry& e);

/// The journal row of `ev`, which leads to state `after`.
journal_entry make_entry(const std::string& saga_id, const order_data& order,
                         const saga_state& after, const saga_event& ev,
                         nlohmann::json extra, int32_t seq);

/// The state a saga's journal rows lead to under `policy` (whether a failed
/// attempt was the last one depends on it: use the sagas' own).
saga_state fold_journal(const std::vector<journal_entry>& entries,
                        saga_retry_policy policy, bool manual_capture = false);

/// What performs a step's action or compensation: an inventory shard or
/// one of the node's provider connections.
enum class call_receiver : uint8_t {
  inventory,
  sandbox_payment,
  stripe,
  adyen,
  sandbox_invoicing,
  billingo,
  sandbox_shipping,
  contact, ///< the contact service (actors/contact.hpp): messages to customers
};

/// Where a step's call goes (`shard`: the inventory shard of the order's
/// first SKU) and its verb.
struct call_route {
  call_receiver receiver = call_receiver::inventory;
  size_t shard = 0;
  std::string op;
};

/// The payment processor that holds (or is to hold) the order's payment:
/// its first one, or the one the charge was rerouted to.
const std::string& payment_processor(const order_data& order,
                                     const saga_state& logic);

/// The processor after the current one in the order's list; empty = none.
std::string next_payment_processor(const order_data& order,
                                   const saga_state& logic);

/// Failover: the processor the charge moves to after `result` of the
/// charge (forward, not a compensation), or none. Only when its processor
/// is out — circuit open, or it answered that it did nothing — and holds
/// nothing of this payment (saga_state::may_reroute), and the order has a
/// next one.
std::optional<std::string> reroute_payment(const order_data& order,
                                           const saga_state& logic,
                                           saga_step step,
                                           const provider_result& result);

/// Whether `e` is the charge restarted by POST .../payment/confirm (the
/// step's own `confirmed` member; only those rows are parsed); `details`
/// gets what the shopper's return carried ("" = nothing).
bool confirms_three_ds(const journal_entry& e, std::string& details);

call_route call_target(const order_data& order, const saga_state& logic,
                       saga_step step, bool compensation);

/// The call that issues (or, `lookup`, finds) the credit note of refund
/// `refund` at `attempt`: to the order's invoicing provider, against the
/// order's invoice, keyed by the refund's id.
provider_call make_credit_note_call(const std::string& saga_id,
                                    const order_data& order,
                                    const saga_state& logic, size_t refund,
                                    uint32_t attempt, bool lookup,
                                    provider_result_sink reply_to);

/// The call of refund `refund` (an index into `logic.refunds()`) at
/// `attempt`: to the order's payment provider, keyed by the refund's id.
provider_call make_refund_call(const std::string& saga_id,
                               const order_data& order, const saga_state& logic,
                               size_t refund, uint32_t attempt,
                               provider_result_sink reply_to);

/// The call of `step` (or its compensation) at `attempt`, addressed to
/// `reply_to`. `op_override` replaces the verb (`find_invoice`) and is part
/// of the message id.
provider_call make_call(const std::string& saga_id, const order_data& order,
                        const saga_state& logic, saga_step step,
                        uint32_t attempt, bool compensation,
                        bool three_ds_confirmed, const std::string& op_override,
                        provider_result_sink reply_to);

} // namespace kassa
