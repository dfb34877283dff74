#include "support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "support/node_process.hpp"

namespace kassa::test {

namespace {

/// Closes `fd` with a reset (SO_LINGER 0) instead of a FIN.
void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

struct tcp_proxy::link {
  int client = -1;
  int server = -1;
  std::atomic<bool> closed{false};
};

tcp_proxy::tcp_proxy(uint16_t upstream_port) : upstream_(upstream_port) {
  listener_ = listen_on_loopback(port_);
  acceptor_ = std::thread([this] {
    accept_loop();
  });
}

tcp_proxy::~tcp_proxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard guard{mutex_};
    for (auto& l : links_)
      if (!l->closed.exchange(true)) {
        ::shutdown(l->client, SHUT_RDWR);
        ::shutdown(l->server, SHUT_RDWR);
      }
  }
  for (auto& t : threads_)
    t.join();
}

void tcp_proxy::set(mode m) {
  mode_ = m;
  if (m != mode::reset)
    return;
  std::lock_guard guard{mutex_};
  for (auto& l : links_)
    if (!l->closed.exchange(true)) {
      // The relay thread sees `closed` and closes the descriptors.
      ::shutdown(l->client, SHUT_RDWR);
      ::shutdown(l->server, SHUT_RDWR);
    }
}

void tcp_proxy::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_)
        return;
      continue;
    }
    if (mode_ == mode::reset) {
      reset_close(fd);
      continue;
    }
    int up = connect_to(upstream_);
    if (up < 0) {
      reset_close(fd);
      continue;
    }
    auto l = std::make_shared<link>();
    l->client = fd;
    l->server = up;
    std::lock_guard guard{mutex_};
    links_.push_back(l);
    threads_.emplace_back([this, l] {
      relay(l);
    });
  }
}

void tcp_proxy::relay(std::shared_ptr<link> l) {
  char buf[65536];
  while (!l->closed) {
    if (mode_ == mode::blackhole) {
      ::usleep(20000);
      continue;
    }
    pollfd fds[2] = {{l->client, POLLIN, 0}, {l->server, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0)
      continue;
    if (mode_ == mode::blackhole)
      continue;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      int from = i == 0 ? l->client : l->server;
      int to = i == 0 ? l->server : l->client;
      auto n = ::recv(from, buf, sizeof(buf), 0);
      if (n <= 0) {
        done = true;
        break;
      }
      for (ssize_t off = 0; off < n;) {
        auto w
          = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          done = true;
          break;
        }
        off += w;
      }
    }
    if (done)
      break;
  }
  l->closed = true;
  reset_close(l->client);
  reset_close(l->server);
}

} // namespace kassa::test
