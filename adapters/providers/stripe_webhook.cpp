#include "adapters/providers/stripe_webhook.hpp"

#include <cctype>
#include <charconv>
#include <ctime>
#include <openssl/crypto.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "runtime/json_parse.hpp"

namespace kassa {

std::string_view to_string(webhook_verdict v) {
  switch (v) {
    case webhook_verdict::valid:
      return "valid";
    case webhook_verdict::malformed_header:
      return "malformed_header";
    case webhook_verdict::signature_mismatch:
      return "signature_mismatch";
    case webhook_verdict::timestamp_out_of_range:
      return "timestamp_out_of_range";
  }
  return "malformed_header";
}

webhook_verdict verify_stripe_signature(std::string_view payload,
                                        std::string_view header,
                                        std::string_view secret,
                                        int64_t now_unix,
                                        std::chrono::seconds tolerance) {
  std::string_view timestamp;
  std::vector<std::string_view> signatures;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{}
                                             : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.substr(0, 2) == "t=")
      timestamp = item.substr(2);
    else if (item.substr(0, 3) == "v1=")
      signatures.push_back(item.substr(3));
  }
  int64_t t = 0;
  auto [p, ec]
    = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), t);
  if (timestamp.empty() || ec != std::errc{}
      || p != timestamp.data() + timestamp.size() || signatures.empty())
    return webhook_verdict::malformed_header;
  std::string signed_payload{timestamp};
  signed_payload += '.';
  signed_payload += payload;
  auto expected = hmac_sha256_hex(secret, signed_payload);
  bool match = false;
  for (auto sig : signatures)
    match
      |= sig.size() == expected.size()
         && CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0;
  if (!match)
    return webhook_verdict::signature_mismatch;
  auto age = now_unix - t;
  if (age > tolerance.count() || age < -tolerance.count())
    return webhook_verdict::timestamp_out_of_range;
  return webhook_verdict::valid;
}

namespace {

std::string text_at(const nlohmann::json& object, const char* key) {
  auto i = object.find(key);
  return i != object.end() && i->is_string() ? i->get<std::string>()
                                             : std::string{};
}

/// Stripe's unix time as RFC 3339 (UTC).
std::string rfc3339(int64_t unix_time) {
  auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// A `charge.dispute.*` event's dispute (nullopt: not a dispute object, or
/// a type kassa does not act on). Stripe's statuses: `warning_*` are
/// inquiries (no funds moved yet), `warning_closed` an inquiry closed in
/// the merchant's favour, `charge_refunded` one ended by a refund.
std::optional<dispute_notice> read_dispute(const stripe_event& e,
                                           const nlohmann::json& event) {
  auto data = event.find("data");
  if (data == event.end() || !data->is_object())
    return std::nullopt;
  auto object = data->find("object");
  if (object == data->end() || !object->is_object())
    return std::nullopt;
  auto& d = *object;
  dispute_notice n;
  n.message_id = e.id;
  n.processor = "stripe";
  n.dispute_id = text_at(d, "id");
  n.payment_ref = text_at(d, "payment_intent");
  if (n.payment_ref.empty())
    n.payment_ref = text_at(d, "charge");
  if (auto meta = d.find("metadata"); meta != d.end() && meta->is_object())
    n.order_id = text_at(*meta, "order_id");
  if (auto a = d.find("amount"); a != d.end() && a->is_number_integer())
    n.amount_minor = a->get<int64_t>();
  n.currency = text_at(d, "currency");
  for (auto& c : n.currency)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  n.reason = text_at(d, "reason");
  if (auto ev = d.find("evidence_details"); ev != d.end() && ev->is_object()) {
    auto due = ev->find("due_by");
    if (due != ev->end() && due->is_number_integer())
      n.due_by = rfc3339(due->get<int64_t>());
  }
  auto status = text_at(d, "status");
  auto kind = e.type.substr(std::string_view{"charge.dispute."}.size());
  if (kind == "created")
    n.change = "opened";
  else if (kind == "funds_withdrawn" || kind == "funds_reinstated")
    n.change = kind;
  else if (kind == "closed")
    n.change = status == "won" || status == "warning_closed" ? "won" : "lost";
  else if (kind == "updated") {
    n.change = "updated";
    if (status == "needs_response" || status == "warning_needs_response")
      n.status = "needs_response";
    else if (status == "under_review" || status == "warning_under_review")
      n.status = "under_review";
  } else
    return std::nullopt;
  return n;
}

} // namespace

std::optional<stripe_event> parse_stripe_event(std::string_view body) {
  nlohmann::json event;
  if (parse_json(body, event) || !event.is_object())
    return std::nullopt;
  auto id = event.find("id");
  auto type = event.find("type");
  if (id == event.end() || !id->is_string() || type == event.end()
      || !type->is_string())
    return std::nullopt;
  stripe_event out{
    id->get<std::string>(), type->get<std::string>(), {}, {}, {}, {}, {}, 0};
  if (out.type.rfind("charge.dispute.", 0) == 0)
    out.dispute = read_dispute(out, event);
  if (auto data = event.find("data"); data != event.end() && data->is_object())
    if (auto object = data->find("object");
        object != data->end() && object->is_object()) {
      out.object_id = text_at(*object, "id");
      out.payment_intent = text_at(*object, "payment_intent");
      if (auto a = object->find("amount_refunded");
          a != object->end() && a->is_number_integer())
        out.amount_refunded = a->get<int64_t>();
      if (auto e = object->find("last_payment_error");
          e != object->end() && e->is_object())
        out.failure_message = text_at(*e, "message");
    }
  const nlohmann::json* at = &event;
  for (auto key : {"data", "object", "metadata", "order_id"}) {
    if (!at->is_object())
      return out;
    auto next = at->find(key);
    if (next == at->end())
      return out;
    at = &*next;
  }
  if (at->is_string())
    out.order_id = at->get<std::string>();
  return out;
}

} // namespace kassa
