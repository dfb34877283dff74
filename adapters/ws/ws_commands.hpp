#pragma once

// What a WebSocket client may ask (API.md, WebSocket): a text frame holding
// `{"op":"subscribe"|"unsubscribe","topics":[...],"since":n}` or
// `{"op":"ping"}`, checked against what the connection's credentials grant.
// Plain code, no I/O: the session (ws_endpoint.cpp) acts on the result.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace kassa::ws {

struct client_command {
  enum class kind { ping, subscribe, unsubscribe };
  kind what = kind::ping;
  std::vector<std::string> topics;
  int64_t since = -1; ///< subscribe: replay after this seq; -1 = live only
};

/// Why a frame was refused: the `error` frame's code and message.
struct command_error {
  std::string code;
  std::string message;
};

/// Parses one client text frame. `full_access` (an API key) may subscribe to
/// any topic; otherwise only to `customer:<customer_id>`.
std::variant<client_command, command_error>
parse_client_command(const std::string& text, bool full_access,
                     const std::string& customer_id);

} // namespace kassa::ws
