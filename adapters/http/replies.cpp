#include "adapters/http/replies.hpp"

#include <array>
#include <atomic>

namespace kassa {

namespace {

struct failure_row {
  failure_code code;
  int status;
  std::string_view api_code; ///< the `code` of API.md's error shape
};

/// Every failure code, its status and its code in the API.
constexpr std::array<failure_row, 31> failure_table{{
  {failure_code::invalid_field, 422, "invalid_field"},
  {failure_code::idempotency_key_reused, 422, "idempotency_key_reused"},
  {failure_code::product_not_found, 404, "product_not_found"},
  {failure_code::product_exists, 409, "product_exists"},
  {failure_code::stock_conflict, 409, "stock_conflict"},
  {failure_code::order_not_found, 404, "order_not_found"},
  {failure_code::order_finished, 409, "order_finished"},
  {failure_code::order_not_cancellable, 409, "order_not_cancellable"},
  {failure_code::not_waiting, 409, "not_waiting"},
  {failure_code::not_awaiting_capture, 409, "not_awaiting_capture"},
  {failure_code::order_not_refundable, 409, "order_not_refundable"},
  {failure_code::refund_exceeds_captured, 422, "refund_exceeds_captured"},
  {failure_code::provider_not_found, 404, "provider_not_found"},
  // The client may send the same request again (API.md: Retry-After).
  {failure_code::database_unavailable, 503, "database_unavailable"},
  {failure_code::commit_outcome_unknown, 503, "database_unavailable"},
  {failure_code::not_owner, 503, "not_owner"},
  {failure_code::unanswered, 503, "unanswered"},
  {failure_code::internal, 500, "internal"},
  {failure_code::plan_not_found, 404, "plan_not_found"},
  {failure_code::plan_changed, 409, "plan_changed"},
  {failure_code::subscription_not_found, 404, "subscription_not_found"},
  {failure_code::subscription_state, 409, "subscription_state"},
  {failure_code::job_not_found, 404, "job_not_found"},
  {failure_code::job_state, 409, "job_state"},
  {failure_code::order_not_failed, 409, "order_not_failed"},
  {failure_code::message_not_found, 404, "message_not_found"},
  {failure_code::template_not_found, 404, "template_not_found"},
  {failure_code::customer_not_found, 404, "customer_not_found"},
  {failure_code::customer_exists, 409, "customer_exists"},
  {failure_code::ticket_not_found, 404, "ticket_not_found"},
  {failure_code::ticket_state, 409, "ticket_state"},
}};

const failure_row& row_of(failure_code code) {
  for (auto& row : failure_table)
    if (row.code == code)
      return row;
  return failure_table.back();
}

class http_reply : public reply_to {
public:
  explicit http_reply(responder_ptr out) : out_(std::move(out)) {}

  /// Dropped without an answer (a supervisor dropped the command for a
  /// saga that stopped, moved to another node or was not there yet): the
  /// client hears it now, not after `http.request_timeout_ms`.
  ~http_reply() override {
    if (!sent_.exchange(true))
      out_->respond(to_response(reply::fail(
        failure_code::unanswered,
        "the command was lost before it was answered (its order's saga "
        "stopped or moved meanwhile); its outcome is unknown: send it again "
        "(a refund with the same Idempotency-Key)")));
  }

  void send(reply r) override {
    if (!sent_.exchange(true))
      out_->respond(to_response(r));
  }

private:
  responder_ptr out_;
  std::atomic<bool> sent_{false};
};

} // namespace

int status_of(const reply& r) {
  switch (r.what) {
    case reply::kind::done:
      return 200;
    case reply::kind::created:
      return 201;
    case reply::kind::accepted:
      return 202;
    case reply::kind::failed:
      break;
  }
  return row_of(r.error.code).status;
}

api_response to_response(const reply& r) {
  api_response out;
  if (r.failed()) {
    auto& row = row_of(r.error.code);
    out = error_response(row.status, row.api_code, r.error.message,
                         r.error.field);
    if (row.status == 503)
      // Long enough not to add load while the database restarts, short
      // enough that a client is back soon after it is.
      out.headers.emplace_back("Retry-After", "2");
  } else {
    out = json_response(status_of(r), r.body);
  }
  if (r.replayed)
    out.headers.emplace_back("Idempotent-Replayed", "true");
  return out;
}

reply_ptr reply_via(responder_ptr out) {
  return std::make_shared<http_reply>(std::move(out));
}

} // namespace kassa
