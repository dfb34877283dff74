// The HTTP listener: Beast sessions on `http.io_threads` Asio threads, the
// acceptor, connection limits and the drain on shutdown. Over 500 lines on
// purpose: a session's timeouts, its pipelining of answers and the drain act
// on the same state under one strand (what needs none of it, turning a Beast
// request into an `api_request`, is in beast_request.cpp).

#include "adapters/http/server.hpp"

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "adapters/http/api_pipeline.hpp"
#include "adapters/http/beast_request.hpp"
#include "adapters/http/upgrade.hpp"
#include "runtime/fault_reporter.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class session;

/// What every session shares with the server.
struct server_shared {
  http_server_options options;
  const logger& log;
  metrics_registry& metrics;
  fault_reporter faults;
  const api_pipeline* pipeline = nullptr;
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_request_id{1};
  std::string request_id_prefix;

  std::mutex sessions_mtx;
  std::list<std::weak_ptr<session>> sessions;
  size_t session_count = 0; ///< sessions.size(), under sessions_mtx

  counter* connections_total = nullptr;
  counter* connections_refused = nullptr;
  counter* slow_clients = nullptr;
  gauge* connections_open = nullptr;

  std::vector<std::pair<std::string, std::shared_ptr<upgrade_target>>> upgrades;

  server_shared(http_server_options opts, const logger& lg,
                metrics_registry& mr)
    : options(std::move(opts)), log(lg), metrics(mr), faults(&lg, &mr) {}
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, server_shared& shared)
    : stream_(std::move(socket)), deadline_(stream_.get_executor()),
      shared_(shared) {}

  ~session() {
    if (shared_.connections_open)
      shared_.connections_open->add(-1);
    std::lock_guard guard{shared_.sessions_mtx};
    shared_.sessions.erase(self_in_list_);
    --shared_.session_count;
  }

  void start() {
    if (shared_.connections_total)
      shared_.connections_total->inc();
    if (shared_.connections_open)
      shared_.connections_open->add(1);
    {
      std::lock_guard guard{shared_.sessions_mtx};
      shared_.sessions.push_front(weak_from_this());
      self_in_list_ = shared_.sessions.begin();
      ++shared_.session_count;
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->do_read();
    });
  }

  /// Called on drain: an idle connection closes now; a busy one closes after
  /// its current answer.
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_)
        self->stream_.socket().cancel();
    });
  }

  /// From any thread: the answer to request number `generation`.
  void post_reply(uint64_t generation, api_response response) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), generation,
               response = std::move(response)]() mutable {
                self->on_reply(generation, std::move(response));
              });
  }

private:
  /// The responder a handler gets: bound to one request, so a late answer
  /// to an earlier request (after its 504) can never answer a later one.
  struct bound_responder : responder {
    std::shared_ptr<session> owner;
    uint64_t generation;
    bound_responder(std::shared_ptr<session> s, uint64_t gen)
      : owner(std::move(s)), generation(gen) {}
    void respond(api_response response) override {
      owner->post_reply(generation, std::move(response));
    }
  };

  // Reading a request has three deadlines: the idle timeout until its first
  // byte, the header timeout from there to the end of its headers (a client
  // that sends them a byte at a time is closed), then the body timeout.
  void do_read() {
    if (shared_.draining.load()) {
      do_close();
      return;
    }
    parser_.emplace();
    parser_->body_limit(shared_.options.body_limit_bytes);
    parser_->header_limit(request_header_limit);
    reading_ = true;
    if (buffer_.size() > 0) { // pipelined: the next request is here already
      read_header();
      return;
    }
    stream_.expires_after(shared_.options.idle_timeout);
    stream_.async_read_some(
      buffer_.prepare(4096),
      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->buffer_.commit(n);
        if (ec)
          self->on_read(ec, 0);
        else
          self->read_header();
      });
  }

  void read_header() {
    stream_.expires_after(shared_.options.header_timeout);
    http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec == beast::error::timeout && self->shared_.slow_clients)
          self->shared_.slow_clients->inc();
        if (ec || self->parser_->is_done()) {
          self->on_read(ec, 0);
          return;
        }
        self->stream_.expires_after(self->shared_.options.body_timeout);
        http::async_read(self->stream_, self->buffer_, *self->parser_,
                         beast::bind_front_handler(&session::on_read, self));
      });
  }

  void on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    stream_.expires_never();
    try {
      handle_read(ec);
    } catch (...) {
      // Boundary: whatever this request broke, the client gets an answer
      // and the loop goes on.
      shared_.faults.report("http_session", std::current_exception(),
                            request_id_);
      keep_alive_ = false;
      if (waiting_)
        write_response(internal_error(request_id_));
      else
        do_close();
    }
  }

  void handle_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      version_ = parser_->get().version();
      begin_request("body_too_large");
      write_response(error_response(
        413, "payload_too_large",
        "the body exceeds the limit of "
          + std::to_string(shared_.options.body_limit_bytes) + " bytes"));
      return;
    }
    if (ec
        && ec.category()
             == http::make_error_code(http::error::bad_target).category()
        && ec != http::error::end_of_stream
        && ec != http::error::partial_message) {
      // A malformed request: answer once, then close.
      keep_alive_ = false;
      version_ = 11;
      begin_request("malformed");
      write_response(error_response(400, "bad_request",
                                    "malformed HTTP request: " + ec.message()));
      return;
    }
    if (ec) {
      if (!is_disconnect(ec) && ec != http::error::partial_message)
        shared_.log.debug("http", "read failed", {{"error", ec.message()}});
      do_close();
      return;
    }
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    auto req = to_api_request(msg);
    if (auto id = req.header("x-request-id"); !id.empty() && id.size() <= 128)
      req.request_id = std::string{id};
    else
      req.request_id = shared_.request_id_prefix
                       + std::to_string(shared_.next_request_id.fetch_add(1));
    request_id_ = req.request_id;
    if (boost::beast::websocket::is_upgrade(msg)) {
      for (auto& [path, target] : shared_.upgrades) {
        if (path != req.path)
          continue;
        begin_request("upgrade");
        if (auto refusal = target->check(req)) {
          keep_alive_ = false;
          write_response(std::move(*refusal));
          return;
        }
        // The connection now belongs to the upgrade target.
        record_upgrade();
        beast::error_code ignored;
        auto fd = stream_.release_socket().release(ignored);
        target->take(fd, std::move(req));
        return;
      }
    }
    auto generation = begin_request({});
    deadline_.expires_after(shared_.options.request_timeout);
    deadline_.async_wait(
      [self = shared_from_this(), generation](beast::error_code ec) {
        if (!ec)
          self->on_reply(generation,
                         error_response(504, "timeout",
                                        "no answer within the request "
                                        "timeout; the operation may still "
                                        "complete"));
      });
    auto out
      = std::make_shared<bound_responder>(shared_from_this(), generation);
    route_ = shared_.pipeline->dispatch(std::move(req), out);
  }

  uint64_t begin_request(std::string route) {
    route_ = std::move(route);
    started_ = std::chrono::steady_clock::now();
    waiting_ = true;
    return ++generation_;
  }

  void on_reply(uint64_t generation, api_response response) {
    if (!waiting_ || generation != generation_)
      return; // Late or duplicate answer: the request was already answered.
    deadline_.cancel();
    write_response(std::move(response));
  }

  void write_response(api_response r) {
    waiting_ = false;
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "kassa");
    res->set(http::field::content_type, r.content_type);
    if (!request_id_.empty())
      res->set("X-Request-Id", request_id_);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    res->keep_alive(keep_alive_ && !shared_.draining.load());
    res->body() = std::move(r.body);
    res->prepare_payload();
    status_ = r.status;
    response_ = res;
    stream_.expires_after(shared_.options.idle_timeout);
    http::async_write(
      stream_, *res,
      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    auto keep = response_->keep_alive();
    response_.reset();
    record_metrics();
    request_id_.clear();
    if (ec) {
      do_close();
      return;
    }
    if (!keep) {
      linger_close();
      return;
    }
    do_read();
  }

  void record_upgrade() {
    status_ = 101;
    record_metrics();
  }

  void record_metrics() {
    auto elapsed = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - started_)
                     .count();
    auto route = route_.empty() ? std::string{"unmatched"} : route_;
    shared_.metrics
      .get_counter("kassa_http_requests_total",
                   "HTTP requests answered, by route and status.",
                   {{"route", route}, {"status", std::to_string(status_)}})
      .inc();
    shared_.metrics
      .get_histogram("kassa_http_request_duration_seconds",
                     "Time from a request read to its answer written.",
                     {{"route", route}})
      .observe(elapsed);
  }

  /// Half-closes and reads what the client still sends, for up to the
  /// linger time and 64 MiB (as nginx's lingering close), so a client that
  /// writes a whole body we refused before it reads sees our answer, not a
  /// reset: closing with unread bytes would send RST, and the client's
  /// kernel would drop the answer it had not read yet.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(shared_.options.linger);
    buffer_.consume(buffer_.size());
    drain_buffer_.resize(64 * 1024);
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(
      net::buffer(drain_buffer_),
      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->drained_bytes_ += n;
        if (ec || self->drained_bytes_ > (uint64_t{64} << 20))
          self->do_close();
        else
          self->do_drain();
      });
  }

  void do_close() {
    beast::error_code ec;
    deadline_.cancel();
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  net::steady_timer deadline_;
  server_shared& shared_;
  std::list<std::weak_ptr<session>>::iterator self_in_list_;
  std::vector<char> drain_buffer_;
  uint64_t drained_bytes_ = 0;
  uint64_t generation_ = 0;
  bool waiting_ = false;
  bool reading_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  int status_ = 0;
  std::string route_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_;
};

} // namespace

// -- the server ---------------------------------------------------------------

struct http_server::impl {
  server_shared shared;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::atomic<bool> lost{false};
  net::steady_timer drain_timer;
  std::chrono::steady_clock::time_point drain_deadline;
  uint16_t bound_port = 0;

  impl(http_server_options opts, const logger& log, metrics_registry& metrics)
    : shared(std::move(opts), log, metrics), ioc(shared.options.io_threads),
      acceptor(net::make_strand(ioc)), drain_timer(ioc) {
    shared.connections_total = &metrics.get_counter(
      "kassa_http_connections_total", "HTTP connections accepted.");
    shared.connections_open = &metrics.get_gauge("kassa_http_connections_open",
                                                 "HTTP connections open now.");
    shared.connections_refused = &metrics.get_counter(
      "kassa_http_connections_refused_total",
      "Connections answered 503 and closed: http.max_connections reached.");
    shared.slow_clients = &metrics.get_counter(
      "kassa_http_header_timeouts_total",
      "Connections closed because their headers did not arrive within "
      "http.header_timeout_ms.");
  }

  void do_accept() {
    acceptor.async_accept(
      net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open())
          return;
        if (ec) {
          // E.g. out of file descriptors: log, wait a little, keep serving.
          shared.log.warn("http", "accept failed", {{"error", ec.message()}});
          auto retry = std::make_shared<net::steady_timer>(ioc);
          retry->expires_after(std::chrono::milliseconds(50));
          retry->async_wait([this, retry](beast::error_code) {
            do_accept();
          });
          return;
        }
        socket.set_option(tcp::no_delay{true}, ec);
        if (over_capacity()) {
          refuse(socket);
        } else {
          try {
            std::make_shared<session>(std::move(socket), shared)->start();
          } catch (...) {
            shared.faults.report("http_accept", std::current_exception());
          }
        }
        do_accept();
      });
  }

  bool over_capacity() {
    std::lock_guard guard{shared.sessions_mtx};
    return shared.session_count >= shared.options.max_connections;
  }

  /// Over the connection cap: a short 503 on the fresh socket (its send
  /// buffer is empty, so the write cannot block) and close.
  void refuse(tcp::socket& socket) {
    static constexpr std::string_view answer
      = "HTTP/1.1 503 Service Unavailable\r\nServer: kassa\r\n"
        "Content-Type: application/json\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: 82\r\n\r\n"
        "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open "
        "connections; retry later\"}}";
    shared.connections_refused->inc();
    beast::error_code ec;
    net::write(socket, net::buffer(answer.data(), answer.size()), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  void begin_drain() {
    if (shared.draining.exchange(true))
      return;
    shared.log.info(
      "http", "shutting down: draining connections",
      {{"grace_ms", std::to_string(shared.options.shutdown_grace.count())}});
    net::post(acceptor.get_executor(), [this] {
      beast::error_code ec;
      acceptor.close(ec);
    });
    for (auto& [path, target] : shared.upgrades)
      target->shutdown();
    std::vector<std::shared_ptr<session>> open;
    {
      std::lock_guard guard{shared.sessions_mtx};
      for (auto& weak : shared.sessions)
        if (auto s = weak.lock())
          open.push_back(std::move(s));
    }
    // Outside the lock: dropping the last reference runs ~session, which
    // takes the same lock.
    for (auto& s : open)
      s->close_if_idle();
    open.clear();
    drain_deadline
      = std::chrono::steady_clock::now() + shared.options.shutdown_grace;
    check_drained();
  }

  void check_drained() {
    bool empty;
    {
      std::lock_guard guard{shared.sessions_mtx};
      empty = shared.sessions.empty();
    }
    if (empty || std::chrono::steady_clock::now() >= drain_deadline) {
      if (!empty)
        shared.log.warn("http", "grace period over; closing busy connections");
      ioc.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(10));
    drain_timer.async_wait([this](beast::error_code ec) {
      if (!ec)
        check_drained();
    });
  }
};

http_server::http_server(http_server_options options, const logger& log,
                         metrics_registry& metrics)
  : impl_(std::make_unique<impl>(std::move(options), log, metrics)) {
  // nop
}

http_server::~http_server() = default;

std::string http_server::listen() {
  auto& o = impl_->shared.options;
  beast::error_code ec;
  auto address = net::ip::make_address(o.bind, ec);
  if (ec)
    return "http.bind: not an IP address: " + o.bind;
  tcp::endpoint endpoint{address, o.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + o.bind + ":" + std::to_string(o.port) + ": "
           + ec.message();
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->shared.request_id_prefix = "req-" + std::to_string(::getpid()) + "-";
  return {};
}

uint16_t http_server::port() const {
  return impl_->bound_port;
}

bool http_server::run(const api_pipeline& pipeline) {
  auto& im = *impl_;
  im.shared.pipeline = &pipeline;
  im.do_accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < im.shared.options.io_threads; ++i)
    threads.emplace_back([&im] {
      run_guarded(im.ioc, im.shared.faults, "http_io");
    });
  run_guarded(im.ioc, im.shared.faults, "http_io");
  for (auto& t : threads)
    t.join();
  return !im.lost.load();
}

void http_server::abandon(std::string reason) {
  impl_->shared.log.error("http", "HTTP loop lost", {{"reason", reason}});
  impl_->lost = true;
  impl_->ioc.stop();
}

void http_server::add_upgrade(std::string path,
                              std::shared_ptr<upgrade_target> target) {
  impl_->shared.upgrades.emplace_back(std::move(path), std::move(target));
}

net::io_context& http_server::io_context() {
  return impl_->ioc;
}

void http_server::post(std::function<void()> fn) {
  net::post(impl_->ioc, std::move(fn));
}

void http_server::stop() {
  net::post(impl_->ioc, [this] {
    impl_->begin_drain();
  });
}

} // namespace kassa
