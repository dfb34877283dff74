#pragma once

// Adapter-private: Beast's request as the core's api_request (shared by the
// server and the HTTP fuzz target, so both read a request the same way),
// and what a read error means.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "adapters/http/api.hpp"

namespace kassa {

/// Limits every request is parsed with: headers (16 KiB) and the body.
inline constexpr std::size_t request_header_limit = 16 * 1024;

/// Moves `msg` into an api_request: method, path and query split, header
/// names lower-cased, the body. `request_id` is left to the caller.
api_request to_api_request(
  boost::beast::http::request<boost::beast::http::string_body>& msg);

/// Whether `ec` only means "the connection is gone" (not worth a log line).
bool is_disconnect(const boost::system::error_code& ec);

} // namespace kassa
