#pragma once

#include <optional>

#include "adapters/http/api.hpp"

namespace kassa {

/// Something that takes over an HTTP connection after an Upgrade request
/// (the WebSocket endpoint). Plain interface: no Beast types.
class upgrade_target {
public:
  virtual ~upgrade_target() = default;
  /// nullopt to accept; otherwise the HTTP answer that refuses (401, 400).
  virtual std::optional<api_response> check(const api_request& req) = 0;
  /// Owns the connection from now on: `fd` is the connected socket, to be
  /// used with the server's io_context.
  virtual void take(int fd, api_request req) = 0;
  /// The node is stopping: say goodbye to every connection taken.
  virtual void shutdown() {}
};

} // namespace kassa
