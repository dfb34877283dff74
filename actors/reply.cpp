#include "actors/reply.hpp"

#include <array>
#include <utility>

namespace kassa {

namespace {

constexpr std::array<std::pair<failure_code, std::string_view>, 31> errc_names{{
  {failure_code::invalid_field, "invalid_field"},
  {failure_code::idempotency_key_reused, "idempotency_key_reused"},
  {failure_code::product_not_found, "product_not_found"},
  {failure_code::product_exists, "product_exists"},
  {failure_code::stock_conflict, "stock_conflict"},
  {failure_code::order_not_found, "order_not_found"},
  {failure_code::order_finished, "order_finished"},
  {failure_code::order_not_cancellable, "order_not_cancellable"},
  {failure_code::not_waiting, "not_waiting"},
  {failure_code::not_awaiting_capture, "not_awaiting_capture"},
  {failure_code::order_not_refundable, "order_not_refundable"},
  {failure_code::refund_exceeds_captured, "refund_exceeds_captured"},
  {failure_code::unanswered, "unanswered"},
  {failure_code::provider_not_found, "provider_not_found"},
  {failure_code::database_unavailable, "database_unavailable"},
  {failure_code::commit_outcome_unknown, "commit_outcome_unknown"},
  {failure_code::not_owner, "not_owner"},
  {failure_code::internal, "internal"},
  {failure_code::plan_not_found, "plan_not_found"},
  {failure_code::plan_changed, "plan_changed"},
  {failure_code::subscription_not_found, "subscription_not_found"},
  {failure_code::subscription_state, "subscription_state"},
  {failure_code::job_not_found, "job_not_found"},
  {failure_code::job_state, "job_state"},
  {failure_code::order_not_failed, "order_not_failed"},
  {failure_code::message_not_found, "message_not_found"},
  {failure_code::template_not_found, "template_not_found"},
  {failure_code::customer_not_found, "customer_not_found"},
  {failure_code::customer_exists, "customer_exists"},
  {failure_code::ticket_not_found, "ticket_not_found"},
  {failure_code::ticket_state, "ticket_state"},
}};

} // namespace

std::string_view to_string(failure_code code) {
  for (auto& [c, name] : errc_names)
    if (c == code)
      return name;
  return "internal";
}

std::optional<failure_code> failure_code_from_string(std::string_view name) {
  for (auto& [c, n] : errc_names)
    if (n == name)
      return c;
  return std::nullopt;
}

std::string_view to_string(reply::kind what) {
  switch (what) {
    case reply::kind::done:
      return "done";
    case reply::kind::created:
      return "created";
    case reply::kind::accepted:
      return "accepted";
    case reply::kind::failed:
      break;
  }
  return "failed";
}

reply database_unavailable(std::string_view detail) {
  return reply::fail(
    failure_code::database_unavailable,
    "the database cannot be reached"
      + (detail.empty() ? std::string{} : ": " + std::string{detail})
      + "; nothing was changed, retry later");
}

reply commit_outcome_unknown(std::string_view detail) {
  return reply::fail(
    failure_code::commit_outcome_unknown,
    "the connection to the database broke while committing"
      + (detail.empty() ? std::string{} : ": " + std::string{detail})
      + "; the change may have been made: send the same request with the "
        "same Idempotency-Key to learn its outcome");
}

namespace {

class function_reply : public reply_to {
public:
  explicit function_reply(std::function<void(reply)> f) : f_(std::move(f)) {}
  void send(reply r) override {
    f_(std::move(r));
  }

private:
  std::function<void(reply)> f_;
};

} // namespace

reply_ptr reply_to_function(std::function<void(reply)> f) {
  return std::make_shared<function_reply>(std::move(f));
}

} // namespace kassa
