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
class fault_reporter;

struct http_server_options {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 1;
  uint64_t body_limit_bytes = 1 << 20;
  millis request_timeout{30000};
  millis idle_timeout{60000};
  millis shutdown_grace{10000};
  /// From a request's first byte to the end of its headers (slowloris).
  millis header_timeout{10000};
  /// From the end of the headers to the end of the body.
  millis body_timeout{30000};
  /// Open connections beyond this are answered 503 and closed at once.
  size_t max_connections = 10000;
  /// After an early error answer (413, 400): how long the rest of what the
  /// client sends is read and dropped so that it sees the answer.
  millis linger{5000};
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

  /// Serves until stop(), then drains: stops accepting, closes idle
  /// connections, lets in-flight requests finish (answered with
  /// `Connection: close`) for up to shutdown_grace, and returns true. Returns
  /// false when the loop was lost (abandon()): the node cannot serve.
  /// An exception that escapes a handler is reported and serving goes on.
  bool run(const api_pipeline& pipeline);

  /// Starts the graceful shutdown from any thread.
  void stop();

  /// Ends the loop at once without draining, as if its threads had died;
  /// run() returns false. For a fatal fault (and the test-only fault
  /// switch that proves the node exits when it loses its HTTP loop).
  void abandon(std::string reason);

  /// Hands Upgrade requests (WebSocket) for `path` to `target`. Before run().
  void add_upgrade(std::string path, std::shared_ptr<upgrade_target> target);

  /// Runs `fn` on the server's I/O loop.
  void post(std::function<void()> fn);

  /// The io_context the sessions run on (for upgraded connections).
  boost::asio::io_context& io_context();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace kassa
