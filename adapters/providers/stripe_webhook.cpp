#include "adapters/providers/stripe_webhook.hpp"

#include <charconv>
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

std::optional<stripe_event> parse_stripe_event(std::string_view body) {
  nlohmann::json event;
  if (parse_json(body, event) || !event.is_object())
    return std::nullopt;
  auto id = event.find("id");
  auto type = event.find("type");
  if (id == event.end() || !id->is_string() || type == event.end()
      || !type->is_string())
    return std::nullopt;
  stripe_event out{id->get<std::string>(), type->get<std::string>(), {}};
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
