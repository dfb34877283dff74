#include "adapters/http/customer_token.hpp"

#include <charconv>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <vector>

#include "runtime/hex.hpp"

namespace kassa {

namespace {

constexpr std::string_view prefix = "ct1.";

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [p, ec]
      = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc{} || p != hex.data() + i + 2)
      return std::nullopt;
    out += static_cast<char>(value);
  }
  return out;
}

} // namespace

std::string make_customer_token(std::string_view secret,
                                std::string_view customer_id,
                                int64_t expires_at_unix) {
  std::string body{prefix};
  body += to_hex(reinterpret_cast<const unsigned char*>(customer_id.data()),
                 customer_id.size());
  body += '.';
  body += std::to_string(expires_at_unix);
  return body + "." + hmac_sha256_hex(secret, body);
}

std::optional<std::string> verify_customer_token(std::string_view secret,
                                                 std::string_view token,
                                                 int64_t now_unix) {
  if (secret.empty() || token.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  auto last_dot = token.rfind('.');
  if (last_dot == std::string_view::npos || last_dot < prefix.size())
    return std::nullopt;
  auto body = token.substr(0, last_dot);
  auto signature = token.substr(last_dot + 1);
  auto expected = hmac_sha256_hex(secret, body);
  if (signature.size() != expected.size()
      || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  auto fields = body.substr(prefix.size());
  auto dot = fields.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  int64_t expiry = 0;
  auto exp_text = fields.substr(dot + 1);
  auto [p, ec] = std::from_chars(exp_text.data(),
                                 exp_text.data() + exp_text.size(), expiry);
  if (ec != std::errc{} || p != exp_text.data() + exp_text.size()
      || expiry < now_unix)
    return std::nullopt;
  auto id = from_hex(fields.substr(0, dot));
  if (!id || id->empty())
    return std::nullopt;
  return id;
}

} // namespace kassa
