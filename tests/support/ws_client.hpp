#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace kassa::test {

/// A real WebSocket client (Beast, blocking) on a loopback socket.
class ws_client {
public:
  /// Connects and upgrades `target` (e.g. "/v1/ws?token=k"). A non-zero
  /// `receive_buffer` shrinks SO_RCVBUF first (a deliberately slow reader).
  /// Throws with the HTTP status in the message when the upgrade is refused.
  ws_client(uint16_t port, const std::string& target,
            const std::string& bearer = {}, int receive_buffer = 0);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  void send_text(const std::string& text);
  void send_binary(const std::string& bytes);

  /// The next text frame, or nullopt when none arrives within `timeout` or
  /// the connection closed (then `close_code()` says how).
  std::optional<std::string> next(std::chrono::milliseconds timeout
                                  = std::chrono::seconds(10));

  /// The close code the server sent (0 if none yet) and its reason.
  int close_code() const;
  std::string close_reason() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace kassa::test
