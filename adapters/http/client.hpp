#pragma once

// An asynchronous HTTP/1.1 client for provider adapters (Beast on Asio, TLS
// through OpenSSL). Calls return at once; the answer arrives in a callback on
// the client's I/O thread, which an adapter turns into a message to itself,
// so no actor thread ever waits on the network. Beast stays in client.cpp.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/fault_reporter.hpp"

namespace kassa {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

struct http_client_options {
  /// "https://api.stripe.com" or "http://127.0.0.1:4010/v3": scheme, host,
  /// optional port and a path prefix put before every target.
  std::string base_url;
  /// PEM file of trusted CAs (tests with their own CA); empty = the
  /// system's trust store. Certificates are always verified, with the host
  /// name checked.
  std::string ca_file;
  /// A whole exchange (connect, TLS, write, read) must end within this.
  std::chrono::milliseconds timeout{3000};
  /// Where an exception that escapes a handler on the client's I/O thread
  /// is reported ("http_client_io"); the thread goes on.
  fault_reporter faults;
  /// Idle keep-alive connections kept for reuse.
  size_t max_idle = 8;
  /// Sent with every request (after the call's own headers).
  header_pairs default_headers;
};

struct http_call {
  std::string method = "GET";
  std::string target; ///< path and query, after the base URL's prefix
  std::string body;
  std::string content_type;
  header_pairs headers;
};

struct http_outcome {
  int status = 0; ///< 0 = no response
  header_pairs headers;
  std::string body;
  std::string error; ///< transport failure, when status is 0
  /// No response, but the request may have reached the server (it failed
  /// while writing or reading): the effect's outcome is unknown.
  bool maybe_sent = false;

  /// The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

class http_client {
public:
  class impl;

  /// Parses `options.base_url` and prepares TLS; an error names what is
  /// wrong. Owns one I/O thread, stopped by the destructor (pending calls
  /// then get no callback).
  static std::shared_ptr<http_client> make(http_client_options options,
                                           std::string& error);

  ~http_client();

  /// Sends `call`; `done` runs exactly once, on the client's I/O thread.
  void send(http_call call, std::function<void(http_outcome)> done);

  const http_client_options& options() const;

private:
  explicit http_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace kassa
