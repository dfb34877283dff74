// bench/ws_fanout load client: N WebSocket subscribers in one process on one
// epoll loop, each subscribed to `orders`. It checks that every connection
// sees every event exactly once (the log is gap-free, so seqs must be
// consecutive) and measures delivery latency from the event's `at`.
//
// Written on plain epoll and non-blocking sockets rather than Beast: the
// client shares the two cores with the node, and every microsecond it spends
// per received frame is taken from the node it measures. One recv() per
// readable socket, frames parsed in place, the one reply it owes (pong) sent
// at once.
//
//   ws_fanout_client PORT TOKEN SUBSCRIBERS SECONDS

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "bench/bench_stats.hpp"

using clock_type = std::chrono::steady_clock;

namespace {

using kassa::bench::field_str;

struct totals {
  uint64_t events = 0;
  uint64_t missing = 0;
  uint64_t duplicates = 0;
  uint64_t connected = 0;
  uint64_t failed = 0;
  uint64_t closed = 0;
  std::vector<double> latencies_ms; // sampled
  /// First arrival of each seq in this process: latency to the FIRST
  /// subscriber (commit, hub, first send) against the spread of a round.
  struct arrivals {
    double first_ms = 0; ///< since the event's `at`
    double first_at = 0; ///< wall clock of the first and last arrival
    double last_at = 0;
  };
  std::unordered_map<int64_t, arrivals> by_seq;
  std::vector<double> connect_ms;
  bool measuring = false;
};

/// Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ".
double parse_at_ms(std::string_view s) {
  std::tm tm{};
  int ms = 0;
  std::string text{s};
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &ms)
      != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) * 1000.0 + ms;
}

double now_ms() {
  using namespace std::chrono;
  return static_cast<double>(
           duration_cast<microseconds>(system_clock::now().time_since_epoch())
             .count())
         / 1000.0;
}

int64_t field_int(std::string_view frame, std::string_view key) {
  auto p = frame.find(key);
  if (p == std::string_view::npos)
    return -1;
  int64_t v = 0;
  for (p += key.size(); p < frame.size() && frame[p] >= '0' && frame[p] <= '9';
       ++p)
    v = v * 10 + (frame[p] - '0');
  return v;
}

/// A client frame: FIN + opcode, masked (RFC 6455 §5.3), payload < 126.
std::string masked_frame(uint8_t op, std::string_view payload) {
  std::string f;
  f += static_cast<char>(0x80 | op);
  f += static_cast<char>(0x80 | payload.size());
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return f;
}

class subscriber {
public:
  enum class phase { connecting, upgrading, open, done };

  subscriber(totals& t, int fd) : totals_(t), fd_(fd) {}

  int fd() const {
    return fd_;
  }
  phase state() const {
    return phase_;
  }

  /// The socket became writable (connected): send the upgrade request.
  void on_connected(const std::string& request) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || !send_all(request))
      return fail();
    phase_ = phase::upgrading;
  }

  /// The socket is readable: one recv, every complete frame handled.
  void on_readable() {
    char buf[64 * 1024];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      if (n <= 0) {
        if (phase_ != phase::done) {
          phase_ == phase::open ? ++totals_.closed : ++totals_.failed;
          phase_ = phase::done;
        }
        return;
      }
      rbuf_.append(buf, static_cast<size_t>(n));
      if (phase_ == phase::upgrading && !on_upgrade())
        return;
      if (phase_ == phase::open)
        parse_frames();
      if (static_cast<size_t>(n) < sizeof buf)
        return; // drained: the next readiness says when there is more
    }
  }

  clock_type::time_point started;

private:
  bool on_upgrade() {
    auto end = rbuf_.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    if (rbuf_.compare(0, 12, "HTTP/1.1 101") != 0) {
      fail();
      return false;
    }
    rbuf_.erase(0, end + 4);
    if (!send_all(
          masked_frame(0x1, R"({"op":"subscribe","topics":["orders"]})"))) {
      fail();
      return false;
    }
    phase_ = phase::open;
    totals_.connected++;
    totals_.connect_ms.push_back(
      std::chrono::duration<double, std::milli>(clock_type::now() - started)
        .count());
    return true;
  }

  void parse_frames() {
    size_t pos = 0;
    while (rbuf_.size() - pos >= 2) {
      auto b0 = static_cast<uint8_t>(rbuf_[pos]);
      auto b1 = static_cast<uint8_t>(rbuf_[pos + 1]);
      size_t header = 2;
      uint64_t len = b1 & 0x7F;
      if (len == 126) {
        if (rbuf_.size() - pos < 4)
          break;
        len = (static_cast<uint64_t>(static_cast<uint8_t>(rbuf_[pos + 2])) << 8)
              | static_cast<uint8_t>(rbuf_[pos + 3]);
        header = 4;
      } else if (len == 127) {
        if (rbuf_.size() - pos < 10)
          break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | static_cast<uint8_t>(rbuf_[pos + 2 + i]);
        header = 10;
      }
      if (rbuf_.size() - pos < header + len)
        break;
      std::string_view payload{rbuf_.data() + pos + header,
                               static_cast<size_t>(len)};
      switch (b0 & 0x0F) {
        case 0x1:
          on_frame(payload);
          break;
        case 0x9: // ping: the node drops peers it does not hear from
          send_all(masked_frame(0xA, payload));
          break;
        case 0x8:
          phase_ = phase::done;
          ++totals_.closed;
          return;
        default:
          break;
      }
      pos += header + len;
    }
    rbuf_.erase(0, pos);
  }

  void on_frame(std::string_view frame) {
    if (frame.substr(0, 15) != R"({"type":"event")")
      return;
    auto seq = field_int(frame, R"("seq":)");
    if (last_seq_ > 0) {
      if (seq <= last_seq_)
        totals_.duplicates++;
      else if (seq > last_seq_ + 1)
        totals_.missing += static_cast<uint64_t>(seq - last_seq_ - 1);
    }
    last_seq_ = std::max(last_seq_, seq);
    if (!totals_.measuring)
      return;
    totals_.events++;
    auto now = now_ms();
    auto [seen, first] = totals_.by_seq.try_emplace(seq);
    seen->second.last_at = now;
    // Sample latency on every 16th event per connection to keep it cheap.
    bool sampled = (++count_ & 15) == 0;
    if (!first && !sampled)
      return;
    auto at = parse_at_ms(field_str(frame, R"("at":")"));
    if (at <= 0)
      return;
    if (first) {
      seen->second.first_at = now;
      seen->second.first_ms = now - at;
    }
    if (sampled)
      totals_.latencies_ms.push_back(now - at);
  }

  bool send_all(const std::string& bytes) const {
    size_t off = 0;
    while (off < bytes.size()) {
      auto n
        = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false; // tiny writes to a fresh socket: never EAGAIN here
      off += static_cast<size_t>(n);
    }
    return true;
  }

  void fail() {
    if (phase_ != phase::done)
      totals_.failed++;
    phase_ = phase::done;
  }

  totals& totals_;
  int fd_;
  phase phase_ = phase::connecting;
  std::string rbuf_;
  int64_t last_seq_ = 0;
  uint64_t count_ = 0;
};

using kassa::bench::cpu_seconds;
using kassa::bench::percentile;

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PORT TOKEN SUBSCRIBERS SECONDS\n", argv[0]);
    return 2;
  }
  auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  std::string token = argv[2];
  int n = std::atoi(argv[3]);
  int seconds = std::atoi(argv[4]);
  std::string request = "GET /v1/ws?token=" + token
                        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: "
                          "websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
  int ep = epoll_create1(0);
  totals t;
  std::vector<subscriber> subs;
  subs.reserve(static_cast<size_t>(n));
  std::unordered_map<int, subscriber*> by_fd;
  std::vector<epoll_event> ready(1024);

  // Handles what is ready within `timeout_ms`; returns the count.
  auto poll_once = [&](int timeout_ms) {
    int k = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()),
                       timeout_ms);
    for (int i = 0; i < k; ++i) {
      auto* s
        = static_cast<subscriber*>(ready[static_cast<size_t>(i)].data.ptr);
      auto ev = ready[static_cast<size_t>(i)].events;
      if (s->state() == subscriber::phase::connecting) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
          s->on_connected(request);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.ptr = s;
          epoll_ctl(ep, EPOLL_CTL_MOD, s->fd(), &e);
        }
        continue;
      }
      if (s->state() != subscriber::phase::done)
        s->on_readable();
      if (s->state() == subscriber::phase::done)
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd(), nullptr);
    }
    return k;
  };

  auto t0 = clock_type::now();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Connect in waves of 500 so the listen backlog is never the limit.
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      t.failed++;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    subs.emplace_back(t, fd);
    auto& s = subs.back();
    s.started = clock_type::now();
    // Non-blocking: EINPROGRESS; the outcome arrives as EPOLLOUT.
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    epoll_event e{};
    e.events = EPOLLOUT;
    e.data.ptr = &s;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    if (i % 500 == 499) {
      auto wave = clock_type::now();
      while (clock_type::now() - wave < std::chrono::milliseconds(50))
        poll_once(10);
    }
  }
  while (t.connected + t.failed < static_cast<uint64_t>(n)
         && clock_type::now() - t0 < std::chrono::seconds(60))
    poll_once(50);
  auto connect_s
    = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("READY %llu connected, %llu failed in %.2f s\n",
              static_cast<unsigned long long>(t.connected),
              static_cast<unsigned long long>(t.failed), connect_s);
  std::fflush(stdout);
  t.measuring = true;
  auto cpu0 = cpu_seconds();
  auto m0 = clock_type::now();
  auto deadline = m0 + std::chrono::seconds(seconds);
  // TICK_US > 0: never sleep in epoll_wait; look every TICK_US instead. On
  // loopback the sender's send() also runs the receiver's side of TCP and
  // wakes a reader that sleeps on the socket: 10,000 sleeping readers cost
  // the node ~3 us per write that remote subscribers would not. A reader
  // that ticks is woken by its timer instead, and the latency it reports
  // includes up to one tick.
  const char* tick_env = std::getenv("TICK_US");
  auto tick
    = std::chrono::microseconds(tick_env != nullptr ? std::atoi(tick_env) : 0);
  while (clock_type::now() < deadline) {
    if (tick.count() == 0)
      poll_once(10);
    else if (poll_once(0) == 0)
      std::this_thread::sleep_for(tick);
  }
  auto measured = std::chrono::duration<double>(clock_type::now() - m0).count();
  // Shows whether the load client could be the bottleneck.
  std::printf("client process: %.0f%% of one core while measuring\n",
              100 * (cpu_seconds() - cpu0) / measured);
  std::printf("subscribers %d (connected %llu, failed %llu, closed by the "
              "node %llu), connect all %.2f s, per connection p50 %.1f ms p99 "
              "%.1f ms\n",
              n, static_cast<unsigned long long>(t.connected),
              static_cast<unsigned long long>(t.failed),
              static_cast<unsigned long long>(t.closed), connect_s,
              percentile(t.connect_ms, 0.5), percentile(t.connect_ms, 0.99));
  std::printf("delivered %.0f events/s over %.1f s; latency from event time "
              "p50 %.1f ms p99 %.1f ms (%zu samples)\n",
              static_cast<double>(t.events) / measured, measured,
              percentile(t.latencies_ms, 0.5), percentile(t.latencies_ms, 0.99),
              t.latencies_ms.size());
  // Where the latency comes from: reaching the first subscriber (commit,
  // hub, first write) and the spread from first to last subscriber.
  std::vector<double> first_ms;
  std::vector<double> spread_ms;
  for (auto& [seq, a] : t.by_seq) {
    first_ms.push_back(a.first_ms);
    spread_ms.push_back(a.last_at - a.first_at);
  }
  std::printf("per event: first subscriber p50 %.1f ms p99 %.1f ms; first to "
              "last subscriber p50 %.1f ms p99 %.1f ms\n",
              percentile(first_ms, 0.5), percentile(first_ms, 0.99),
              percentile(spread_ms, 0.5), percentile(spread_ms, 0.99));
  std::printf("missing %llu, duplicated %llu\n",
              static_cast<unsigned long long>(t.missing),
              static_cast<unsigned long long>(t.duplicates));
  for (auto& s : subs)
    ::close(s.fd());
  ::close(ep);
  return t.missing == 0 && t.duplicates == 0 && t.closed == 0 ? 0 : 1;
}
