#include "actors/disputes.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace kassa {

namespace {

constexpr std::array<std::pair<std::string_view, saga_event_type>, 6> changes{{
  {"opened", saga_event_type::dispute_opened},
  {"updated", saga_event_type::dispute_updated},
  {"funds_withdrawn", saga_event_type::dispute_funds_withdrawn},
  {"funds_reinstated", saga_event_type::dispute_funds_reinstated},
  {"won", saga_event_type::dispute_won},
  {"lost", saga_event_type::dispute_lost},
}};

} // namespace

std::optional<saga_event_type> dispute_event_type(std::string_view change) {
  for (auto& [name, type] : changes)
    if (name == change)
      return type;
  return std::nullopt;
}

std::string check_dispute_notice(const dispute_notice& x) {
  if (x.message_id.empty())
    return "a dispute notice needs the processor's message id";
  if (x.dispute_id.empty())
    return "a dispute notice needs the dispute's id";
  if (!dispute_event_type(x.change))
    return "unknown dispute change '" + x.change + "'";
  if (!x.status.empty() && x.status != "needs_response"
      && x.status != "under_review")
    return "unknown dispute status '" + x.status + "'";
  if (x.amount_minor < 0)
    return "a dispute's amount is not negative";
  return {};
}

dispute_state dispute_after(const std::vector<dispute_state>& known,
                            const dispute_notice& notice) {
  auto i = std::find_if(known.begin(), known.end(), [&](auto& d) {
    return d.id == notice.dispute_id;
  });
  dispute_state d;
  if (i != known.end())
    d = *i;
  else {
    d.id = notice.dispute_id;
    d.processor = notice.processor;
  }
  d.message_id = notice.message_id;
  if (!notice.payment_ref.empty())
    d.payment_ref = notice.payment_ref;
  if (!notice.currency.empty())
    d.currency = notice.currency;
  if (!notice.reason.empty())
    d.reason = notice.reason;
  if (!notice.due_by.empty())
    d.due_by = notice.due_by;
  auto amount = notice.amount_minor;
  if (notice.change == "funds_withdrawn") {
    d.withdrawn_minor = amount > 0 ? amount : d.amount_minor;
    return d;
  }
  if (notice.change == "funds_reinstated") {
    d.reinstated_minor = amount > 0 ? amount : d.withdrawn_minor;
    return d;
  }
  if (amount > 0)
    d.amount_minor = amount;
  if (notice.change == "won" || notice.change == "lost")
    d.status = notice.change;
  else if (!notice.status.empty() && !d.closed())
    d.status = notice.status;
  return d;
}

} // namespace kassa
