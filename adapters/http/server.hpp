#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime/backoff.hpp"

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace kassa {

class api_pipeline;
class upgrade_target;
class logger;
class metrics_registry;

struct http_server_options {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 1;
  uint64_t body_limit_bytes = 1 << 20;
  millis request_timeout{30000};
  millis idle_timeout{60000};
  millis shutdown_grace{10000};
};

/// The HTTP/1.1 listener (Beast on Asio threads). Each request is parsed on
/// an I/O thread and handed to the api_pipeline, whose handlers pass it to
/// actors with a responder; the answer comes back by a post to the
/// connection's strand. No thread per request, no CAF worker ever blocks.
class http_server {
public:
  http_server(http_server_options options, const logger& log,
              metrics_registry& metrics);
  ~http_server();

  /// Binds the listening socket. Returns an empty string or the reason.
  std::string listen();

  /// Port actually bound (after listen()).
  uint16_t port() const;

  /// Serves until SIGTERM/SIGINT or stop(), then drains: stops accepting,
  /// closes idle connections, lets in-flight requests finish (answered with
  /// `Connection: close`) for up to shutdown_grace, and returns.
  void run(const api_pipeline& pipeline);

  /// Starts the graceful shutdown from any thread.
  void stop();

  /// Hands Upgrade requests (WebSocket) for `path` to `target`. Before run().
  void add_upgrade(std::string path, std::shared_ptr<upgrade_target> target);

  /// The io_context the sessions run on (for upgraded connections).
  boost::asio::io_context& io_context();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace kassa
