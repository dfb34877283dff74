// bench/ws_fanout load client: N WebSocket subscribers in one process on one
// epoll loop (Boost.Asio), each subscribed to `orders`. It checks that every
// connection sees every event exactly once (the log is gap-free, so seqs must
// be consecutive) and measures delivery latency from the event's `at`.
//
//   ws_fanout_client PORT TOKEN SUBSCRIBERS SECONDS

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/resource.h>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct totals {
  uint64_t events = 0;
  uint64_t missing = 0;
  uint64_t duplicates = 0;
  uint64_t connected = 0;
  uint64_t failed = 0;
  std::vector<double> latencies_ms; // sampled
  std::vector<double> connect_ms;
  bool measuring = false;
};

/// Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ".
double parse_at_ms(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms)
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

int64_t field_int(const std::string& frame, const char* key) {
  auto p = frame.find(key);
  if (p == std::string::npos)
    return -1;
  return std::strtoll(frame.c_str() + p + std::strlen(key), nullptr, 10);
}

std::string field_str(const std::string& frame, const char* key) {
  auto p = frame.find(key);
  if (p == std::string::npos)
    return {};
  p += std::strlen(key);
  auto e = frame.find('"', p);
  return frame.substr(p, e - p);
}

class subscriber : public std::enable_shared_from_this<subscriber> {
public:
  subscriber(net::io_context& ioc, totals& t, uint16_t port, std::string token)
    : ws_(ioc), totals_(t), port_(port), token_(std::move(token)) {}

  void start() {
    started_ = clock_type::now();
    ws_.next_layer().async_connect(
      tcp::endpoint{net::ip::make_address("127.0.0.1"), port_},
      [self = shared_from_this()](beast::error_code ec) {
        if (ec)
          return self->fail();
        self->ws_.async_handshake(
          "127.0.0.1", "/v1/ws?token=" + self->token_,
          [self](beast::error_code ec) {
            if (ec)
              return self->fail();
            self->ws_.async_write(
              net::buffer(
                std::string_view{R"({"op":"subscribe","topics":["orders"]})"}),
              [self](beast::error_code ec, std::size_t) {
                if (ec)
                  return self->fail();
                self->totals_.connected++;
                self->totals_.connect_ms.push_back(
                  std::chrono::duration<double, std::milli>(clock_type::now()
                                                            - self->started_)
                    .count());
                self->read();
              });
          });
      });
  }

private:
  void fail() {
    totals_.failed++;
  }

  void read() {
    ws_.async_read(
      buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
          return;
        auto frame = beast::buffers_to_string(self->buffer_.data());
        self->buffer_.consume(self->buffer_.size());
        self->on_frame(frame);
        self->read();
      });
  }

  void on_frame(const std::string& frame) {
    if (frame.compare(0, 15, R"({"type":"event")") != 0)
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
    // Sample latency on every 16th event per connection to keep it cheap.
    if ((++count_ & 15) == 0) {
      auto at = parse_at_ms(field_str(frame, R"("at":")"));
      if (at > 0)
        totals_.latencies_ms.push_back(now_ms() - at);
    }
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  totals& totals_;
  uint16_t port_;
  std::string token_;
  clock_type::time_point started_;
  int64_t last_seq_ = 0;
  uint64_t count_ = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

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
  net::io_context ioc{1};
  totals t;
  std::vector<std::shared_ptr<subscriber>> subs;
  auto t0 = clock_type::now();
  // Connect in waves of 500 so the listen backlog is never the limit.
  for (int i = 0; i < n; ++i) {
    subs.push_back(std::make_shared<subscriber>(ioc, t, port, token));
    subs.back()->start();
    if (i % 500 == 499)
      ioc.run_for(std::chrono::milliseconds(50));
  }
  while (t.connected + t.failed < static_cast<uint64_t>(n)
         && clock_type::now() - t0 < std::chrono::seconds(60))
    ioc.run_for(std::chrono::milliseconds(50));
  auto connect_s
    = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("READY %llu connected, %llu failed in %.2f s\n",
              static_cast<unsigned long long>(t.connected),
              static_cast<unsigned long long>(t.failed), connect_s);
  std::fflush(stdout);
  t.measuring = true;
  auto cpu_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
           + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec)
               / 1e6;
  };
  auto cpu0 = cpu_seconds();
  auto m0 = clock_type::now();
  ioc.run_for(std::chrono::seconds(seconds));
  auto measured = std::chrono::duration<double>(clock_type::now() - m0).count();
  // Shows whether the load client could be the bottleneck.
  std::printf("client process: %.0f%% of one core while measuring\n",
              100 * (cpu_seconds() - cpu0) / measured);
  std::printf("subscribers %d (connected %llu, failed %llu), connect all "
              "%.2f s, per connection p50 %.1f ms p99 %.1f ms\n",
              n, static_cast<unsigned long long>(t.connected),
              static_cast<unsigned long long>(t.failed), connect_s,
              percentile(t.connect_ms, 0.5), percentile(t.connect_ms, 0.99));
  std::printf("delivered %.0f events/s over %.1f s; latency from event time "
              "p50 %.1f ms p99 %.1f ms (%zu samples)\n",
              static_cast<double>(t.events) / measured, measured,
              percentile(t.latencies_ms, 0.5), percentile(t.latencies_ms, 0.99),
              t.latencies_ms.size());
  std::printf("missing %llu, duplicated %llu\n",
              static_cast<unsigned long long>(t.missing),
              static_cast<unsigned long long>(t.duplicates));
  return t.missing == 0 && t.duplicates == 0 ? 0 : 1;
}
