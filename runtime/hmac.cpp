#include "runtime/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "runtime/hex.hpp"

namespace kassa {

namespace {

unsigned int mac_of(std::string_view key, std::string_view message,
                    unsigned char (&mac)[EVP_MAX_MD_SIZE]) {
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac, &len);
  return len;
}

} // namespace

std::string hmac_sha256_base64(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  auto len = mac_of(key, message, mac);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  auto n = EVP_EncodeBlock(out, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out),
                     static_cast<size_t>(n));
}

std::optional<std::string> bytes_from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto hi = hex_value(hex[i]);
    auto lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  auto len = mac_of(key, message, mac);
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  return out;
}

} // namespace kassa
