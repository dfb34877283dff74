#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "adapters/http/upgrade.hpp"
#include "adapters/ws/hub_client.hpp"
#include "runtime/backoff.hpp"

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace kassa {

class logger;
class metrics_registry;

/// Who is on the other end of a WebSocket.
struct ws_principal {
  bool full_access = false; ///< API key: every topic
  std::string customer_id;  ///< customer token: only customer:<id>
};

struct ws_settings {
  /// Frames queued for one client beyond this: it is too slow and is closed
  /// with 1013 (it can resume with `since`).
  size_t max_queue_frames = 4096;
  /// Client frames larger than this get an error frame; far larger ones
  /// (16×) close the connection with 1009.
  size_t max_frame_bytes = 64 * 1024;
  /// No frame (data or pong) for this long closes the connection; pings go
  /// out at half of it.
  millis idle_timeout{30000};
  /// SO_SNDBUF per connection; 0 = kernel autotuning.
  int send_buffer_bytes = 0;
  /// Threads serving the connections, each a single-threaded Asio context
  /// with its share of them (so no strand per session: a strand costs a
  /// fifth of the fan-out's CPU).
  int io_threads = 2;
};

/// Decides who may connect: an API key (`Authorization: Bearer` or
/// `?token=`) or a customer token (`?token=ct1...`).
using ws_authenticator
  = std::function<std::optional<ws_principal>(const api_request&)>;

/// GET /v1/ws: the WebSocket protocol of API.md (subscribe with `since`,
/// unsubscribe, ping) over Beast, one session per connection, each a sink
/// of the notification hub with a bounded queue.
std::shared_ptr<upgrade_target>
make_ws_endpoint(ws_settings settings, std::shared_ptr<hub_client> hub,
                 ws_authenticator auth, const logger& log,
                 metrics_registry& metrics);

} // namespace kassa
