// The WebSocket endpoint: RFC 6455 framing written for this one job on plain
// Asio, so that everything queued for a client leaves in ONE writev per
// flush (header + shared payload buffers, zero copy). Beast's websocket
// stream writes one message per call — one send() per event per subscriber,
// which cannot serve 10,000 subscribers (DESIGN.md). The HTTP listener has
// already parsed the upgrade request; this file answers it.
//
// Over 500 lines on purpose: one session's read loop, write loop, drain
// list and keep-alive share its private state and its lane's executor;
// split apart they would need that state public. Framing and commands,
// which need none of it, are in ws_frames.cpp and ws_commands.cpp.

#include "adapters/ws/ws_endpoint.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <unistd.h>
#include <variant>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "actors/notification.hpp"
#include "adapters/ws/io_lanes.hpp"
#include "adapters/ws/ws_commands.hpp"
#include "adapters/ws/ws_frames.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace kassa {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using error_code = boost::system::error_code;

namespace {

using namespace kassa::ws;

class ws_session;

/// Per I/O lane: the sessions that got frames since the lane's thread last
/// looked, drained by one posted job. A fan-out round to 10,000 sessions is
/// then one post per lane (one wake-up), not 10,000.
struct drain_queue {
  explicit drain_queue(net::io_context& c) : ioc(c) {}
  net::io_context& ioc;
  std::mutex mutex;
  std::vector<std::shared_ptr<ws_session>> sessions;
  bool posted = false;
};

struct endpoint_shared {
  endpoint_shared(ws_settings s, std::shared_ptr<hub_client> h,
                  ws_authenticator a, const logger& lg, metrics_registry& m)
    : settings(s), hub(std::move(h)), auth(std::move(a)), log(lg),
      sessions_total(&m.get_counter("kassa_ws_sessions_total",
                                    "WebSocket sessions accepted.")),
      sessions_open(
        &m.get_gauge("kassa_ws_sessions_open", "WebSocket sessions open now.")),
      slow_closed(&m.get_counter("kassa_ws_slow_closed_total",
                                 "WebSocket clients closed with 1013 for "
                                 "being too slow.")),
      writes(&m.get_counter("kassa_ws_writes_total",
                            "writev calls to WebSocket clients (each carries "
                            "every frame queued at the time).")) {}
  ws_settings settings;
  std::shared_ptr<hub_client> hub;
  ws_authenticator auth;
  const logger& log;
  counter* sessions_total;
  gauge* sessions_open;
  counter* slow_closed;
  counter* writes;
  /// One per I/O lane, in lane order.
  std::vector<std::unique_ptr<drain_queue>> drains;

  /// From any thread: `session` has frames in its inbox.
  static void schedule_drain(drain_queue& drains,
                             std::shared_ptr<ws_session> session);
  std::atomic<uint64_t> next_id{1};
};

class ws_session : public event_sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& socket, std::shared_ptr<endpoint_shared> shared,
             drain_queue& drains, ws_principal who)
    : socket_(std::move(socket)), timer_(socket_.get_executor()),
      shared_(std::move(shared)), drains_(drains), who_(std::move(who)),
      id_(shared_->next_id++) {
    shared_->sessions_total->inc();
    shared_->sessions_open->add(1);
  }

  ~ws_session() override {
    shared_->sessions_open->add(-1);
  }

  void start(std::string accept) {
    net::dispatch(socket_.get_executor(), [self = shared_from_this(),
                                           accept = std::move(accept)] {
      self->pending_ += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
                        "websocket\r\nConnection: Upgrade\r\nServer: "
                        "kassa\r\nSec-WebSocket-Accept: "
                        + accept + "\r\n\r\n";
      self->flush();
      self->last_rx_ = std::chrono::steady_clock::now();
      self->arm_timer();
      self->do_read();
    });
  }

  /// From any thread: close with 1001 (the node is going away).
  void going_away() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      self->close(1001, "node shutting down");
    });
  }

  // -- event_sink: any thread ------------------------------------------------

  // Frames land in an inbox; only the first chunk since the last drain
  // schedules a drain on its lane. While the lane works through a
  // fan-out to thousands of sessions, later events pile up in each inbox and
  // leave together in the session's next write: one post and one send per
  // session per round, however many events arrived meanwhile. A chunk is
  // shared by every subscriber that gets all of it, so pushing costs one
  // reference per session, not one per frame.
  void push(frame_chunk chunk) override {
    bool post = false;
    {
      std::lock_guard guard{inbox_mutex_};
      inbox_.push_back(std::move(chunk));
      post = !drain_posted_;
      drain_posted_ = true;
    }
    if (post)
      endpoint_shared::schedule_drain(drains_, shared_from_this());
  }

  /// On the session's executor: frames from the inbox into one write.
  void drain_inbox() {
    std::vector<frame_chunk> batch;
    {
      std::lock_guard guard{inbox_mutex_};
      batch.swap(inbox_);
      drain_posted_ = false;
    }
    for (auto& chunk : batch)
      for (auto& f : *chunk)
        if (!enqueue(*f))
          return;
    flush();
  }

private:
  // -- reading
  // -----------------------------------------------------------------

  /// Reads frames; once closing, reads only to drain until the peer closes
  /// (closing with unread input would reset the connection and could
  /// destroy the close frame before the client reads it).
  void do_read() {
    if (closing_)
      rbuf_.clear();
    auto old = rbuf_.size();
    rbuf_.resize(old + 16 * 1024);
    socket_.async_read_some(
      net::buffer(rbuf_.data() + old, 16 * 1024),
      [self = shared_from_this(), old](error_code ec, std::size_t n) {
        self->rbuf_.resize(old + n);
        if (ec) {
          self->finish();
          error_code ignored;
          self->timer_.cancel();
          self->socket_.close(ignored);
          return;
        }
        self->last_rx_ = std::chrono::steady_clock::now();
        self->parse_frames();
        self->flush();
        self->do_read();
      });
  }

  /// Consumes every complete frame in rbuf_.
  void parse_frames() {
    size_t pos = 0;
    auto hard_limit = shared_->settings.max_frame_bytes * 16;
    while (!closing_) {
      auto f = decode_client_frame(
        std::string_view{rbuf_.data() + pos, rbuf_.size() - pos}, hard_limit);
      if (f.status == decoded_frame::incomplete)
        break;
      if (f.status == decoded_frame::violation) {
        close(f.close_code, f.reason);
        break;
      }
      pos += f.consumed;
      on_frame(f.fin, f.op, std::move(f.payload));
    }
    rbuf_.erase(rbuf_.begin(), rbuf_.begin() + static_cast<long>(pos));
  }

  void on_frame(bool fin, uint8_t op, std::string payload) {
    switch (op) {
      case op_ping:
        enqueue_control(op_pong, std::move(payload));
        return;
      case op_pong:
        return;
      case op_close:
        // Echo the code and go (RFC 6455 §5.5.1).
        close(payload.size() >= 2
                ? (static_cast<unsigned char>(payload[0]) << 8)
                    | static_cast<unsigned char>(payload[1])
                : 1000,
              "");
        return;
      case op_continuation:
        if (!in_message_) {
          close(1002, "continuation without a message");
          return;
        }
        message_ += payload;
        break;
      case op_text:
      case op_binary:
        if (in_message_) {
          close(1002, "new message inside a fragmented one");
          return;
        }
        in_message_ = true;
        message_is_text_ = op == op_text;
        message_ = std::move(payload);
        break;
      default:
        close(1002, "unknown opcode");
        return;
    }
    if (message_.size() > shared_->settings.max_frame_bytes * 16) {
      close(1009, "message too large");
      return;
    }
    if (!fin)
      return;
    in_message_ = false;
    auto message = std::move(message_);
    message_.clear();
    if (!message_is_text_)
      reply_error("unsupported_frame", "send JSON text frames");
    else if (message.size() > shared_->settings.max_frame_bytes)
      reply_error("frame_too_large",
                  "frames are limited to "
                    + std::to_string(shared_->settings.max_frame_bytes)
                    + " bytes");
    else
      handle(message);
  }

  void handle(const std::string& text) {
    auto parsed
      = parse_client_command(text, who_.full_access, who_.customer_id);
    if (auto* err = std::get_if<command_error>(&parsed)) {
      reply_error(err->code, err->message);
      return;
    }
    auto& cmd = std::get<client_command>(parsed);
    if (cmd.what == client_command::kind::ping) {
      enqueue(std::string_view{R"({"type":"pong"})"});
      return;
    }
    if (cmd.what == client_command::kind::unsubscribe) {
      enqueue(std::string_view{ack_frame("unsubscribed", cmd.topics)});
      shared_->hub->unsubscribe(id_, cmd.topics);
      return;
    }
    // The hub answers `subscribed` once the subscription is in place, ahead
    // of its events: acked here, an event published before the hub took the
    // subscription would have been missed after the ack.
    subscribed_ = true;
    shared_->hub->subscribe(id_, shared_from_this(), std::move(cmd.topics),
                            cmd.since);
  }

  void reply_error(std::string_view code, std::string_view message) {
    enqueue(std::string_view{error_frame(code, message)});
  }

  // -- writing
  // -----------------------------------------------------------------

  /// Queues a text frame; false once the client is closed or cut off.
  bool enqueue(std::string_view payload) {
    if (closing_)
      return false;
    if (pending_frames_ + in_flight_frames_
        >= shared_->settings.max_queue_frames) {
      shared_->slow_closed->inc();
      close(1013, "too slow: queue full; reconnect and subscribe with since");
      return false;
    }
    append_frame(op_text, payload);
    ++pending_frames_;
    return true;
  }

  bool enqueue(const frame_ptr& frame) {
    return enqueue(std::string_view{*frame});
  }

  void enqueue_control(uint8_t op, std::string_view payload) {
    append_frame(op, payload);
  }

  /// Header and payload go into the pending bytes: one contiguous buffer,
  /// so a write is one send() whatever the number of frames.
  void append_frame(uint8_t op, std::string_view payload) {
    append_frame_header(pending_, op, payload.size());
    pending_.append(payload);
  }

  /// Writes everything pending (unless a write is in flight). First at once
  /// (the socket is non-blocking): usually the kernel takes it all, and no
  /// asynchronous operation — with its completion to schedule — is needed.
  void flush() {
    if (writing_ || pending_.empty() || !socket_.is_open())
      return;
    error_code ec;
    auto n = socket_.write_some(net::buffer(pending_), ec);
    if (ec && ec != net::error::would_block && ec != net::error::try_again) {
      finish();
      return;
    }
    shared_->writes->inc();
    if (n == pending_.size()) {
      pending_.clear();
      pending_frames_ = 0;
      after_write();
      return;
    }
    pending_.erase(0, n); // the rest waits until the socket can take it
    writing_ = true;
    in_flight_.swap(pending_);
    pending_.clear();
    in_flight_frames_ = pending_frames_;
    pending_frames_ = 0;
    shared_->writes->inc();
    net::async_write(socket_, net::buffer(in_flight_),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       self->on_written(ec);
                     });
  }

  void on_written(error_code ec) {
    writing_ = false;
    in_flight_.clear();
    in_flight_frames_ = 0;
    if (ec) {
      finish();
      return;
    }
    if (!after_write())
      flush();
  }

  /// After the bytes of a close frame left: shut down. True when done.
  bool after_write() {
    if (close_sent_ && pending_.empty()) {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      finish();
      return true;
    }
    return false;
  }

  /// Sends a close frame after what is being written, drops the rest.
  void close(int code, std::string reason) {
    if (closing_)
      return;
    closing_ = true;
    // Bytes already handed to the kernel stay; the others are dropped.
    pending_.clear();
    pending_frames_ = 0;
    std::string payload;
    payload += static_cast<char>((code >> 8) & 0xFF);
    payload += static_cast<char>(code & 0xFF);
    payload += reason.substr(0, 120);
    append_frame(op_close, payload);
    close_sent_ = true;
    // A client that reads nothing never lets the close frame out: give it
    // a few seconds, then drop the connection.
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        error_code ignored;
        self->socket_.close(ignored);
        self->finish();
      }
    });
    flush();
  }

  // -- liveness
  // ----------------------------------------------------------------

  void arm_timer() {
    timer_.expires_after(shared_->settings.idle_timeout / 2);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->left_ || self->closing_)
        return;
      auto idle = std::chrono::steady_clock::now() - self->last_rx_;
      if (idle > self->shared_->settings.idle_timeout) {
        error_code ignored;
        self->socket_.close(ignored); // silent peer: drop it
        self->finish();
        return;
      }
      if (!self->closing_) {
        self->enqueue_control(op_ping, {});
        self->flush();
      }
      self->arm_timer();
    });
  }

  void finish() {
    if (left_)
      return;
    left_ = true;
    closing_ = true;
    // The drain after a close ends with the peer's EOF or this deadline.
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        error_code ignored;
        self->socket_.close(ignored);
      }
    });
    if (subscribed_)
      shared_->hub->leave(id_);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::shared_ptr<endpoint_shared> shared_;
  drain_queue& drains_; ///< of this session's I/O lane
  ws_principal who_;
  uint64_t id_;
  std::vector<char> rbuf_;
  std::string message_;
  bool in_message_ = false;
  bool message_is_text_ = true;
  std::string pending_;   ///< framed bytes not yet written
  std::string in_flight_; ///< the bytes of the write in flight
  size_t pending_frames_ = 0;
  size_t in_flight_frames_ = 0;
  std::mutex inbox_mutex_; ///< guards inbox_ and drain_posted_ (any thread)
  std::vector<frame_chunk> inbox_;
  bool drain_posted_ = false;
  std::chrono::steady_clock::time_point last_rx_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool subscribed_ = false;
  bool left_ = false;
};

void endpoint_shared::schedule_drain(drain_queue& drains,
                                     std::shared_ptr<ws_session> session) {
  {
    std::lock_guard guard{drains.mutex};
    drains.sessions.push_back(std::move(session));
    if (drains.posted)
      return;
    drains.posted = true;
  }
  net::post(drains.ioc, [&drains] {
    std::vector<std::shared_ptr<ws_session>> ready;
    {
      std::lock_guard guard{drains.mutex};
      ready.swap(drains.sessions);
      drains.posted = false;
    }
    for (auto& s : ready)
      s->drain_inbox();
  });
}

class ws_endpoint : public upgrade_target {
public:
  ws_endpoint(std::unique_ptr<io_lanes> lanes,
              std::shared_ptr<endpoint_shared> shared)
    : lanes_(std::move(lanes)), shared_(std::move(shared)) {}

  ~ws_endpoint() override {
    // Threads first; then the sessions waiting for a drain, whose sockets
    // must close before their contexts go (with the lanes, below).
    lanes_->stop();
    for (auto& d : shared_->drains)
      d->sessions.clear();
  }

  std::optional<api_response> check(const api_request& req) override {
    if (req.header("sec-websocket-version") != "13"
        || req.header("sec-websocket-key").empty())
      return error_response(400, "bad_upgrade",
                            "a WebSocket upgrade needs Sec-WebSocket-Version: "
                            "13 and a Sec-WebSocket-Key");
    if (!shared_->auth(req)) {
      auto r = error_response(401, "unauthorized",
                              "send an API key (Authorization: Bearer or "
                              "?token=) or a customer token (?token=)");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    return std::nullopt;
  }

  void take(int fd, api_request req) override {
    auto who = shared_->auth(req);
    auto lane = static_cast<int>(next_lane_++ % lanes_->size());
    tcp::socket socket{lanes_->context(lane).get_executor()};
    error_code ec;
    socket.assign(tcp::v4(), fd, ec);
    if (ec || !who) {
      ::close(fd);
      return;
    }
    socket.non_blocking(true, ec); // flush() writes at once when it can
    if (shared_->settings.send_buffer_bytes > 0)
      socket.set_option(
        net::socket_base::send_buffer_size(shared_->settings.send_buffer_bytes),
        ec);
    auto session = std::make_shared<ws_session>(
      std::move(socket), shared_, *shared_->drains[static_cast<size_t>(lane)],
      std::move(*who));
    {
      std::lock_guard guard{mtx_};
      std::erase_if(sessions_, [](auto& w) {
        return w.expired();
      });
      sessions_.push_back(session);
    }
    session->start(accept_key(req.header("sec-websocket-key")));
  }

  void shutdown() override {
    std::vector<std::shared_ptr<ws_session>> open;
    {
      std::lock_guard guard{mtx_};
      for (auto& w : sessions_)
        if (auto s = w.lock())
          open.push_back(std::move(s));
    }
    for (auto& s : open)
      s->going_away();
  }

private:
  std::unique_ptr<io_lanes> lanes_;
  std::shared_ptr<endpoint_shared> shared_;
  std::atomic<unsigned> next_lane_{0};
  std::mutex mtx_;
  std::vector<std::weak_ptr<ws_session>> sessions_;
};

} // namespace

std::shared_ptr<upgrade_target>
make_ws_endpoint(ws_settings settings, std::shared_ptr<hub_client> hub,
                 ws_authenticator auth, const logger& log,
                 metrics_registry& metrics) {
  auto shared = std::make_shared<endpoint_shared>(
    settings, std::move(hub), std::move(auth), log, metrics);
  auto lanes
    = std::make_unique<io_lanes>(std::max(1, settings.io_threads), "kassa-ws",
                                 fault_reporter{&log, &metrics});
  for (int i = 0; i < lanes->size(); ++i)
    shared->drains.push_back(std::make_unique<drain_queue>(lanes->context(i)));
  return std::make_shared<ws_endpoint>(std::move(lanes), std::move(shared));
}

} // namespace kassa
