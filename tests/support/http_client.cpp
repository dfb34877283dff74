#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace kassa::test {

namespace {

int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port)
                             + " failed");
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Parses one response from the front of `buf` if complete; removes it.
bool parse_reply(std::string& buf, http_reply& out, bool eof) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos)
    return false;
  auto head = buf.substr(0, end);
  http_reply r;
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  r.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    if (next == std::string::npos)
      next = head.size();
    auto line = head.substr(pos, next - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      r.headers.emplace_back(lower(line.substr(0, colon)), value);
    }
    pos = next + 2;
  }
  auto length_text = r.header("content-length");
  size_t body_start = end + 4;
  if (length_text.empty()) {
    if (!eof)
      return false;
    r.body = buf.substr(body_start);
    buf.clear();
  } else {
    auto length = std::stoul(length_text);
    if (buf.size() < body_start + length)
      return false;
    r.body = buf.substr(body_start, length);
    buf.erase(0, body_start + length);
  }
  out = std::move(r);
  return true;
}

} // namespace

std::string http_reply::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (k == name)
      return v;
  return {};
}

header_list with_key(header_list headers) {
  headers.emplace_back("Authorization", "Bearer test-key");
  return headers;
}

http_reply http_request(uint16_t port, const std::string& method,
                        const std::string& target, const header_list& headers,
                        const std::string& body) {
  raw_connection conn{port};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n";
  for (auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  conn.send(req);
  return conn.read_reply();
}

http_reply http_get(uint16_t port, const std::string& target,
                    const header_list& headers) {
  return http_request(port, "GET", target, headers);
}

raw_connection::raw_connection(uint16_t port) : fd_(connect_loopback(port)) {}

raw_connection::~raw_connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool raw_connection::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

http_reply raw_connection::read_reply() {
  http_reply r;
  char chunk[16384];
  for (;;) {
    if (parse_reply(buffer_, r, false))
      return r;
    auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      if (parse_reply(buffer_, r, true))
        return r;
      throw std::runtime_error("connection closed before a full response");
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool raw_connection::closed_by_peer() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0)
    return false;
  char c;
  return ::recv(fd_, &c, 1, 0) == 0;
}

} // namespace kassa::test
