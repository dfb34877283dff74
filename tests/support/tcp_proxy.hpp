#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kassa::test {

/// A TCP proxy on 127.0.0.1 in front of `upstream_port`, for partitions the
/// tests make themselves: `pass` relays both ways; `blackhole` stops
/// relaying (bytes wait, connections stay open and silent); `reset` resets
/// every connection (RST) and every new one as it arrives — a server that
/// is gone. Back to `pass`, new connections go through again.
class tcp_proxy {
public:
  enum class mode { pass, blackhole, reset };

  explicit tcp_proxy(uint16_t upstream_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  uint16_t port() const {
    return port_;
  }

  void set(mode m);

private:
  struct link;
  void accept_loop();
  void relay(std::shared_ptr<link> l);

  uint16_t upstream_;
  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<mode> mode_{mode::pass};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::shared_ptr<link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

} // namespace kassa::test
