#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kassa {

/// HMAC-SHA256 of `message` under `key`, as lower-case hex (OpenSSL).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// The same MAC in standard base64 (with padding), as Adyen signs.
std::string hmac_sha256_base64(std::string_view key, std::string_view message);

/// The bytes a hex string stands for (either case); nullopt when it is not
/// an even number of hex digits.
std::optional<std::string> bytes_from_hex(std::string_view hex);

} // namespace kassa
