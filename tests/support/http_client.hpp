#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kassa::test {

struct http_reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers; ///< lower-case
  std::string body;

  std::string header(const std::string& name) const;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A blocking HTTP/1.1 client over a real loopback socket, one request per
/// connection (Connection: close). Throws when it cannot connect.
http_reply http_request(uint16_t port, const std::string& method,
                        const std::string& target, const header_list& headers,
                        const std::string& body = {});

http_reply http_get(uint16_t port, const std::string& target,
                    const header_list& headers = {});

/// Authorization: Bearer test-key (the key node_env sets).
header_list with_key(header_list headers = {});

/// A raw connection for keep-alive and malformed-input tests.
class raw_connection {
public:
  explicit raw_connection(uint16_t port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends bytes; returns false if the peer closed.
  bool send(const std::string& bytes);
  /// Reads exactly one response (by Content-Length).
  http_reply read_reply();
  /// True when the peer closed the connection (reads EOF) within ~2 s.
  bool closed_by_peer();

private:
  int fd_ = -1;
  std::string buffer_;
};

} // namespace kassa::test
