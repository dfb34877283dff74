// The order saga's names: its step table, and how events, statuses and
// steps are written in the journal and the API (order_saga_logic.hpp).

#include <array>
#include <optional>
#include <string_view>

#include "actors/order_saga_logic.hpp"

namespace kassa {

const std::array<saga_step_def, saga_step_count>& saga_steps() {
  static const std::array<saga_step_def, saga_step_count> table{{
    {saga_step::reserve_stock, "reserve_stock", "release_stock", true},
    {saga_step::create_invoice, "create_invoice", "cancel_invoice", true},
    {saga_step::charge_payment, "charge_payment", "refund_payment", true},
    {saga_step::capture_payment, "capture_payment", "refund_capture", true},
    {saga_step::create_shipment, "create_shipment", "cancel_shipment", true},
    {saga_step::commit_stock, "commit_stock", "", true},
    {saga_step::notify_customer, "notify_customer", "", false},
  }};
  return table;
}

std::string_view to_string(saga_step s) {
  return saga_steps()[static_cast<size_t>(s)].name;
}

std::optional<saga_step> parse_saga_step(std::string_view name) {
  for (auto& def : saga_steps())
    if (def.name == name)
      return def.step;
  return std::nullopt;
}

namespace {

constexpr std::array<std::string_view, 31> event_names{
  "order.created",
  "step.started",
  "step.succeeded",
  "step.failed",
  "compensation.started",
  "compensation.succeeded",
  "compensation.failed",
  "order.cancel_requested",
  "order.waiting",
  "step.parked",
  "order.completed",
  "order.cancelled",
  "order.failed",
  "payment.capture_requested",
  "refund.requested",
  "refund.started",
  "refund.succeeded",
  "refund.failed",
  "dispute.opened",
  "dispute.updated",
  "dispute.funds_withdrawn",
  "dispute.funds_reinstated",
  "dispute.won",
  "dispute.lost",
  "credit_note.started",
  "credit_note.issued",
  "credit_note.failed",
  "payment.rerouted",
  "payment.capture_failed",
  "compensation.retried",
  "order.resolved",
};

} // namespace

std::string_view to_string(saga_event_type t) {
  return event_names[static_cast<size_t>(t)];
}

std::optional<saga_event_type> parse_saga_event_type(std::string_view name) {
  for (size_t i = 0; i < event_names.size(); ++i)
    if (event_names[i] == name)
      return static_cast<saga_event_type>(i);
  return std::nullopt;
}

std::string_view to_string(saga_status s) {
  switch (s) {
    case saga_status::pending:
      return "pending";
    case saga_status::running:
      return "running";
    case saga_status::waiting:
      return "waiting";
    case saga_status::completed:
      return "completed";
    case saga_status::compensating:
      return "compensating";
    case saga_status::cancelled:
      return "cancelled";
    case saga_status::failed:
      return "failed";
    case saga_status::awaiting_capture:
      return "awaiting_capture";
    case saga_status::refunding:
      return "refunding";
  }
  return "pending";
}

std::string_view to_string(refund_state::note_t s) {
  switch (s) {
    case refund_state::note_t::none:
      return "none";
    case refund_state::note_t::pending:
      return "pending";
    case refund_state::note_t::running:
      return "running";
    case refund_state::note_t::issued:
      return "issued";
    case refund_state::note_t::failed:
      return "failed";
  }
  return "none";
}

std::string_view to_string(refund_state::status_t s) {
  switch (s) {
    case refund_state::status_t::pending:
      return "pending";
    case refund_state::status_t::running:
      return "running";
    case refund_state::status_t::succeeded:
      return "succeeded";
    case refund_state::status_t::failed:
      return "failed";
  }
  return "pending";
}

std::string_view to_string(capture_state::status_t s) {
  switch (s) {
    case capture_state::status_t::pending:
      return "pending";
    case capture_state::status_t::running:
      return "running";
    case capture_state::status_t::succeeded:
      return "succeeded";
    case capture_state::status_t::failed:
      return "failed";
  }
  return "pending";
}

bool is_terminal(saga_status s) {
  return s == saga_status::completed || s == saga_status::cancelled
         || s == saga_status::failed;
}

std::string_view to_string(step_status s) {
  switch (s) {
    case step_status::pending:
      return "pending";
    case step_status::running:
      return "running";
    case step_status::done:
      return "done";
    case step_status::failed:
      return "failed";
    case step_status::compensating:
      return "compensating";
    case step_status::compensated:
      return "compensated";
    case step_status::skipped:
      return "skipped";
  }
  return "pending";
}

} // namespace kassa
