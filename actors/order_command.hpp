#pragma once

// A shop's or customer's command for one order's saga, as it travels from a
// route (or a peer's forward over the cluster link) to the saga.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/atoms.hpp"
#include "actors/dispute_notice.hpp"
#include "actors/order_line.hpp"
#include "actors/payment_notice.hpp"

namespace kassa {

struct order_command {
  order_command() = default;
  order_command(caf::atom_value kind, int64_t amount_minor = 0,
                std::string key = {}, std::string reason = {})
    : kind(kind), amount_minor(amount_minor), key(std::move(key)),
      reason(std::move(reason)) {}
  /// A processor's notice about a dispute of the order's payment.
  explicit order_command(dispute_notice notice)
    : kind(atom::dispute::value), dispute(std::move(notice)) {}
  /// A processor's late word on a payment it left pending.
  explicit order_command(payment_notice notice)
    : kind(atom::settle::value), payment(std::move(notice)) {}

  /// `cancel`, `confirm` (3-D Secure done), `capture`, `void_auth`,
  /// `refund`, `dispute` or `settle` (a processor's notices), and an
  /// operator's `retry_comp` (a failed order's compensations again) or
  /// `resolve` (`reason`: the note, `key`: who).
  caf::atom_value kind = atom::cancel::value;
  /// capture: how much (0: all that is left); refund: how much.
  int64_t amount_minor = 0;
  /// capture, refund: the request's Idempotency-Key (required for a
  /// refund and a capture that is not final); refund: the reason given.
  std::string key;
  std::string reason;
  /// refund: the lines given back (their value is the amount when it is
  /// 0); empty = a refund of an amount.
  std::vector<order_line> lines;
  /// dispute: what the processor said.
  dispute_notice dispute;
  /// confirm: what the shopper's return from 3-D Secure carried, for the
  /// processor (a JSON object's text; "" = nothing).
  std::string details;
  /// capture: the authorization's last (the rest is released); false:
  /// more captures may follow.
  bool final_capture = true;
  /// settle: what the processor said about the payment.
  payment_notice payment;

  friend bool operator==(const order_command&, const order_command&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_command& x) {
  return f(caf::meta::type_name("kassa::order_command"), x.kind, x.amount_minor,
           x.key, x.reason, x.lines, x.dispute, x.details, x.final_capture,
           x.payment);
}

/// Whether a saga knows `x` (a peer may send anything).
bool is_known(const order_command& x);

/// The command's name in messages ("cancel").
std::string to_string(const order_command& x);

} // namespace kassa
