#pragma once

#include <string>
#include <string_view>

namespace kassa {

/// HMAC-SHA256 of `message` under `key`, as lower-case hex (OpenSSL).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

} // namespace kassa
