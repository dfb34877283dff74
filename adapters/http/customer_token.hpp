#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/hmac.hpp"

namespace kassa {

/// A signed token that grants one customer's topic to a browser (a member
/// area), without the API key: "ct1.<hex customer id>.<expiry unix s>.<hex
/// HMAC-SHA256 of the part before>". Plain code over OpenSSL's HMAC.
std::string make_customer_token(std::string_view secret,
                                std::string_view customer_id,
                                int64_t expires_at_unix);

/// The customer id of a valid, unexpired token; nullopt otherwise (bad
/// shape, wrong signature, expired, empty secret).
std::optional<std::string> verify_customer_token(std::string_view secret,
                                                 std::string_view token,
                                                 int64_t now_unix);

} // namespace kassa
