// bench/saga_throughput load client: CONCURRENCY orders in flight, closed
// loop. Each worker (one keep-alive HTTP connection) places an order
// (tok_ok, one unit of bench-sku, a unique Idempotency-Key), waits until the
// order is terminal — seen as order.completed|cancelled|failed on one
// WebSocket subscribed to `orders` — and places the next. Latency is from
// sending the POST to receiving the terminal event; throughput counts orders
// that reached a terminal state during the measured seconds. With `manual`
// each order is placed with "capture":"manual" and captured by its worker
// (POST /v1/orders/{id}/capture) as soon as the WebSocket shows it
// awaiting_capture; its latency then spans both requests.
//
//   saga_throughput_client PORT TOKEN CONCURRENCY SECONDS [WARMUP_SECONDS]
//                          [manual]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/bench_stats.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* order_body
  = R"({"customer":{"id":"bench","email":"bench@example.test"},)"
    R"("items":[{"sku":"bench-sku","quantity":1}],)"
    R"("payment":{"provider":"sandbox","token":"tok_ok"},)"
    R"("shipping":{"provider":"sandbox","address":{"country":"HU"}}})";

constexpr const char* manual_order_body
  = R"({"customer":{"id":"bench","email":"bench@example.test"},)"
    R"("items":[{"sku":"bench-sku","quantity":1}],)"
    R"("payment":{"provider":"sandbox","token":"tok_ok"},)"
    R"("capture":"manual",)"
    R"("shipping":{"provider":"sandbox","address":{"country":"HU"}}})";

/// The status an order waits in for its capture (a pseudo-status of the
/// bench's `early` map: the event overtook the 202).
constexpr const char* awaiting_capture = "awaiting_capture";

struct worker;

struct bench_state {
  uint16_t port = 0;
  std::string token;
  bool manual = false; ///< "capture":"manual" and a capture per order
  /// Unique per run, so a second run against the same database places new
  /// orders instead of replaying the first run's keys.
  std::string key_prefix;
  bool placing = true; ///< false once the measured time is over
  bool measuring = false;
  clock_type::time_point measure_from, measure_until;
  uint64_t posted = 0, http_errors = 0, in_flight = 0;
  std::unordered_map<std::string, uint64_t> finished; ///< status -> count
  uint64_t finished_in_window = 0;
  std::vector<double> latencies_ms; ///< orders placed while measuring
  std::unordered_map<std::string, worker*> waiting;   ///< order id -> worker
  std::unordered_map<std::string, std::string> early; ///< event before 202
};

using kassa::bench::field_str;

struct worker : std::enable_shared_from_this<worker> {
  worker(net::io_context& ioc, bench_state& st, int id)
    : stream(ioc), st(st), id(id) {}

  void start() {
    stream.async_connect(
      tcp::endpoint{net::ip::make_address("127.0.0.1"), st.port},
      [self = shared_from_this()](beast::error_code ec) {
        if (ec) {
          std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
          self->st.http_errors++;
          return;
        }
        self->place();
      });
  }

  void place() {
    if (!st.placing)
      return;
    req = {http::verb::post, "/v1/orders", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::authorization, "Bearer " + st.token);
    req.set("Idempotency-Key",
            st.key_prefix + std::to_string(id) + "-" + std::to_string(++count));
    req.body() = st.manual ? manual_order_body : order_body;
    req.prepare_payload();
    res = {};
    placed = clock_type::now();
    st.posted++;
    st.in_flight++;
    exchange([](worker& self) {
      self.on_answer();
    });
  }

  /// Writes `req`, reads `res`, then runs `then(*this)` (a failure of
  /// either counts and ends this worker's loop).
  template <class Then>
  void exchange(Then then) {
    http::async_write(
      stream, req,
      [self = shared_from_this(), then](beast::error_code ec, std::size_t) {
        if (ec)
          return self->fail(ec);
        http::async_read(self->stream, self->buffer, self->res,
                         [self, then](beast::error_code ec, std::size_t) {
                           if (ec)
                             return self->fail(ec);
                           then(*self);
                         });
      });
  }

  void on_answer() {
    if (res.result_int() != 202) {
      std::fprintf(stderr, "POST answered %d: %s\n", res.result_int(),
                   res.body().c_str());
      st.http_errors++;
      st.in_flight--;
      return place();
    }
    auto id = std::string{field_str(res.body(), R"("id":")")};
    st.waiting[id] = this;
    if (auto e = st.early.find(id); e != st.early.end()) {
      auto status = e->second;
      st.early.erase(e);
      if (status == awaiting_capture)
        return capture(id);
      st.waiting.erase(id);
      return finish(status);
    }
  }

  /// Captures the order (it stays in `waiting` until its terminal event).
  void capture(const std::string& id) {
    req = {http::verb::post, "/v1/orders/" + id + "/capture", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + st.token);
    req.body().clear();
    req.prepare_payload();
    res = {};
    exchange([](worker& self) {
      if (self.res.result_int() != 202) {
        std::fprintf(stderr, "capture answered %d: %s\n", self.res.result_int(),
                     self.res.body().c_str());
        self.st.http_errors++;
      }
    });
  }

  void finish(const std::string& status) {
    auto now = clock_type::now();
    st.in_flight--;
    st.finished[status]++;
    if (st.measuring && now >= st.measure_from && now < st.measure_until) {
      if (status == "completed")
        st.finished_in_window++;
      if (placed >= st.measure_from)
        st.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - placed).count());
    }
    place();
  }

  void fail(beast::error_code ec) {
    std::fprintf(stderr, "worker %d: %s\n", id, ec.message().c_str());
    st.http_errors++;
    st.in_flight--;
  }

  beast::tcp_stream stream;
  bench_state& st;
  int id;
  uint64_t count = 0;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
  clock_type::time_point placed;
};

/// The one WebSocket that sees every order's terminal event.
struct watcher : std::enable_shared_from_this<watcher> {
  watcher(net::io_context& ioc, bench_state& st) : ws(ioc), st(st) {}

  void start(std::function<void()> ready) {
    ws.next_layer().connect(
      tcp::endpoint{net::ip::make_address("127.0.0.1"), st.port});
    ws.handshake("127.0.0.1", "/v1/ws?token=" + st.token);
    ws.write(net::buffer(
      std::string_view{R"({"op":"subscribe","topics":["orders"]})"}));
    // Orders are placed only once the node has the subscription in place
    // (its `subscribed` ack): an order finished before that would never be
    // seen as terminal.
    for (;;) {
      ws.read(buffer);
      auto data = buffer.cdata();
      std::string_view frame{static_cast<const char*>(data.data()),
                             data.size()};
      bool acked = field_str(frame, R"("type":")") == "subscribed";
      buffer.consume(buffer.size());
      if (acked)
        break;
    }
    ready();
    read();
  }

  void read() {
    ws.async_read(
      buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
          std::fprintf(stderr, "websocket: %s\n", ec.message().c_str());
          return;
        }
        auto data = self->buffer.cdata();
        std::string_view frame{static_cast<const char*>(data.data()),
                               data.size()};
        self->on_frame(frame);
        self->buffer.consume(self->buffer.size());
        self->read();
      });
  }

  void on_frame(std::string_view frame) {
    if (st.manual
        && frame.find(R"("status":"awaiting_capture")") != frame.npos) {
      auto id = std::string{field_str(frame, R"("order_id":")")};
      if (auto w = st.waiting.find(id); w != st.waiting.end())
        w->second->capture(id);
      else
        st.early[id] = awaiting_capture; // before the order's 202
      return;
    }
    auto event = field_str(frame, R"("event":")");
    static constexpr std::string_view prefix = "order.";
    if (event.compare(0, prefix.size(), prefix) != 0)
      return;
    auto status = std::string{event.substr(prefix.size())};
    if (status != "completed" && status != "cancelled" && status != "failed")
      return;
    auto id = std::string{field_str(frame, R"("order_id":")")};
    auto w = st.waiting.find(id);
    if (w == st.waiting.end()) {
      st.early[id] = status; // the event overtook the 202
      return;
    }
    auto* worker = w->second;
    st.waiting.erase(w);
    worker->finish(status);
  }

  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buffer;
  bench_state& st;
};

using kassa::bench::cpu_seconds;
using kassa::bench::percentile;

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s PORT TOKEN CONCURRENCY SECONDS [WARMUP_SECONDS]\n",
                 argv[0]);
    return 2;
  }
  bench_state st;
  st.port = static_cast<uint16_t>(std::atoi(argv[1]));
  st.token = argv[2];
  st.key_prefix = "bench-"
                  + std::to_string(
                    std::chrono::system_clock::now().time_since_epoch().count())
                  + "-";
  int concurrency = std::atoi(argv[3]);
  int seconds = std::atoi(argv[4]);
  int warmup = argc > 5 ? std::atoi(argv[5]) : 2;
  st.manual = argc > 6 && std::string_view{argv[6]} == "manual";
  net::io_context ioc{1};
  auto w = std::make_shared<watcher>(ioc, st);
  std::vector<std::shared_ptr<worker>> workers;
  w->start([&] {
    for (int i = 0; i < concurrency; ++i) {
      workers.push_back(std::make_shared<worker>(ioc, st, i));
      workers.back()->start();
    }
  });
  auto t0 = clock_type::now();
  st.measuring = true;
  st.measure_from = t0 + std::chrono::seconds(warmup);
  st.measure_until = st.measure_from + std::chrono::seconds(seconds);
  ioc.run_until(st.measure_from);
  auto cpu0 = cpu_seconds();
  ioc.run_until(st.measure_until);
  auto cpu = cpu_seconds() - cpu0;
  st.placing = false;
  // Let the orders in flight finish (they are not in the measured window).
  auto drain_until = clock_type::now() + std::chrono::seconds(60);
  while (st.in_flight > 0 && clock_type::now() < drain_until)
    ioc.run_for(std::chrono::milliseconds(50));
  uint64_t total = 0;
  for (auto& [status, n] : st.finished)
    total += n;
  std::printf("concurrency %d, %d s measured after %d s warm-up; client "
              "process %.0f%% of one core\n",
              concurrency, seconds, warmup, 100 * cpu / seconds);
  std::printf("orders placed %llu, terminal %llu (completed %llu, cancelled "
              "%llu, failed %llu), POST errors %llu, unfinished %llu\n",
              static_cast<unsigned long long>(st.posted),
              static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(st.finished["completed"]),
              static_cast<unsigned long long>(st.finished["cancelled"]),
              static_cast<unsigned long long>(st.finished["failed"]),
              static_cast<unsigned long long>(st.http_errors),
              static_cast<unsigned long long>(st.in_flight));
  std::printf("completed sagas/s: %.0f\n",
              static_cast<double>(st.finished_in_window) / seconds);
  std::printf("latency POST->terminal: p50 %.1f ms, p99 %.1f ms (%zu "
              "orders)\n",
              percentile(st.latencies_ms, 0.5),
              percentile(st.latencies_ms, 0.99), st.latencies_ms.size());
  bool ok = st.http_errors == 0 && st.in_flight == 0
            && st.finished["completed"] == total;
  return ok ? 0 : 1;
}
