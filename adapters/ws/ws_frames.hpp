#pragma once

// RFC 6455 framing as plain code: the handshake key, server frame headers
// and a decoder for client frames. ws_endpoint.cpp moves bytes; this decides
// what they mean (and is unit-tested without sockets).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kassa::ws {

enum opcode : uint8_t {
  op_continuation = 0x0,
  op_text = 0x1,
  op_binary = 0x2,
  op_close = 0x8,
  op_ping = 0x9,
  op_pong = 0xA,
};

/// Sec-WebSocket-Accept of a client key (RFC 6455 §4.2.2).
std::string accept_key(std::string_view key);

/// The header of an unmasked server frame with FIN set.
std::string frame_header(uint8_t op, size_t length);

/// The same header, appended to `out` (no allocation of its own).
void append_frame_header(std::string& out, uint8_t op, size_t length);

/// One client frame taken from the front of a buffer.
struct decoded_frame {
  enum status_t : uint8_t {
    frame,      ///< `fin`, `op`, `payload` (unmasked) are set
    incomplete, ///< more bytes needed
    violation,  ///< close with `close_code` / `reason`
  } status = incomplete;
  bool fin = false;
  uint8_t op = 0;
  std::string payload;
  size_t consumed = 0; ///< bytes of the buffer this frame used
  int close_code = 0;
  const char* reason = "";
};

/// Decodes the first frame of `bytes`. Client frames must be masked;
/// control frames must be short and final; nothing longer than `max_bytes`
/// is accepted (1009).
decoded_frame decode_client_frame(std::string_view bytes, uint64_t max_bytes);

} // namespace kassa::ws
