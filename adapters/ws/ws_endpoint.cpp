#include "adapters/ws/ws_endpoint.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <unistd.h>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/notification.hpp"

namespace kassa {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

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
                                 "being too slow.")) {}
  ws_settings settings;
  std::shared_ptr<hub_client> hub;
  ws_authenticator auth;
  const logger& log;
  counter* sessions_total;
  gauge* sessions_open;
  counter* slow_closed;
  std::atomic<uint64_t> next_id{1};
};

class ws_session : public event_sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& socket, std::shared_ptr<endpoint_shared> shared,
             ws_principal who)
    : ws_(std::move(socket)), shared_(std::move(shared)), who_(std::move(who)),
      id_(shared_->next_id++) {
    shared_->sessions_total->inc();
    shared_->sessions_open->add(1);
  }

  ~ws_session() override {
    shared_->sessions_open->add(-1);
  }

  void start(http::request<http::string_body> req) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = shared_->settings.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(shared_->settings.max_frame_bytes * 16);
    ws_.set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "kassa");
      }));
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return;
      self->do_read();
    });
  }

  /// From any thread: close with 1001 (the node is going away).
  void going_away() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->closing_)
        self->close(websocket::close_code::going_away, "node shutting down");
    });
  }

  // -- event_sink: any thread ----------------------------------------------

  void push(std::vector<frame_ptr> frames) override {
    net::post(ws_.get_executor(),
              [self = shared_from_this(), frames = std::move(frames)] {
                for (auto& f : frames)
                  self->enqueue(f);
              });
  }

private:
  void do_read() {
    ws_.async_read(
      in_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->on_read(ec, n);
      });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) {
      finish();
      return;
    }
    auto text = beast::buffers_to_string(in_.data());
    in_.consume(in_.size());
    if (!ws_.got_text())
      reply_error("unsupported_frame", "send JSON text frames");
    else if (n > shared_->settings.max_frame_bytes)
      reply_error("frame_too_large",
                  "frames are limited to "
                    + std::to_string(shared_->settings.max_frame_bytes)
                    + " bytes");
    else
      handle(text);
    if (!closing_)
      do_read();
  }

  void handle(const std::string& text) {
    auto frame = json::parse(text, nullptr, false);
    if (frame.is_discarded() || !frame.is_object()) {
      reply_error("malformed_frame", "a frame must be a JSON object");
      return;
    }
    auto op = frame.value("op", std::string{});
    if (op == "ping") {
      enqueue(std::make_shared<const std::string>(R"({"type":"pong"})"));
      return;
    }
    if (op != "subscribe" && op != "unsubscribe") {
      reply_error("unknown_op", "op must be subscribe, unsubscribe or ping");
      return;
    }
    auto topics_json = frame.find("topics");
    if (topics_json == frame.end() || !topics_json->is_array()
        || topics_json->empty() || topics_json->size() > 100) {
      reply_error("invalid_topics", "topics must be an array of 1 to 100 "
                                    "topic names");
      return;
    }
    std::vector<std::string> topics;
    for (auto& t : *topics_json) {
      if (!t.is_string() || !valid_topic(t.get<std::string>())) {
        reply_error("invalid_topics",
                    "unknown topic " + t.dump()
                      + " (orders, order:<id>, customer:<id>, providers)");
        return;
      }
      auto topic = t.get<std::string>();
      if (!who_.full_access && topic != "customer:" + who_.customer_id) {
        reply_error("forbidden",
                    "this token grants only customer:" + who_.customer_id);
        return;
      }
      topics.push_back(std::move(topic));
    }
    json ack{{"type", op == "subscribe" ? "subscribed" : "unsubscribed"},
             {"topics", topics}};
    if (op == "unsubscribe") {
      shared_->hub->unsubscribe(id_, topics);
      enqueue(std::make_shared<const std::string>(ack.dump()));
      return;
    }
    int64_t since = -1;
    if (auto s = frame.find("since"); s != frame.end()) {
      if (!s->is_number_integer() || s->get<int64_t>() < 0) {
        reply_error("invalid_since", "since must be a seq (an integer >= 0)");
        return;
      }
      since = s->get<int64_t>();
    }
    // The ack goes out before any event of this subscription: the hub's
    // frames arrive through a post to this strand, after it.
    enqueue(std::make_shared<const std::string>(ack.dump()));
    subscribed_ = true;
    shared_->hub->subscribe(id_, shared_from_this(), std::move(topics), since);
  }

  void reply_error(std::string_view code, std::string_view message) {
    enqueue(std::make_shared<const std::string>(error_frame(code, message)));
  }

  void enqueue(frame_ptr frame) {
    if (closing_)
      return;
    if (queue_.size() >= shared_->settings.max_queue_frames) {
      // Too slow: close with "try again later"; it resumes with since.
      shared_->slow_closed->inc();
      close(websocket::close_code::try_again_later,
            "too slow: queue full; reconnect and subscribe with since");
      return;
    }
    queue_.push_back(std::move(frame));
    if (!writing_)
      do_write();
  }

  void do_write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(
      net::buffer(*queue_.front()),
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing_ = false;
        if (ec) {
          self->finish();
          return;
        }
        if (!self->queue_.empty())
          self->queue_.pop_front();
        if (!self->queue_.empty() && !self->closing_)
          self->do_write();
        else if (self->close_pending_)
          self->send_close();
      });
  }

  void close(websocket::close_code code, std::string reason) {
    closing_ = true;
    // The frame being written must outlive its write; drop the rest.
    if (writing_)
      queue_.erase(queue_.begin() + 1, queue_.end());
    else
      queue_.clear();
    close_reason_ = websocket::close_reason{code, reason};
    if (writing_)
      close_pending_ = true; // after the write in progress
    else
      send_close();
  }

  void send_close() {
    close_pending_ = false;
    ws_.async_close(close_reason_,
                    [self = shared_from_this()](beast::error_code) {
                      self->finish();
                    });
  }

  void finish() {
    if (left_)
      return;
    left_ = true;
    closing_ = true;
    if (subscribed_)
      shared_->hub->leave(id_);
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<endpoint_shared> shared_;
  ws_principal who_;
  uint64_t id_;
  beast::flat_buffer in_;
  std::deque<frame_ptr> queue_;
  websocket::close_reason close_reason_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_pending_ = false;
  bool subscribed_ = false;
  bool left_ = false;
};

class ws_endpoint : public upgrade_target {
public:
  ws_endpoint(net::io_context& ioc, std::shared_ptr<endpoint_shared> shared)
    : ioc_(ioc), shared_(std::move(shared)) {}

  std::optional<api_response> check(const api_request& req) override {
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
    tcp::socket socket{net::make_strand(ioc_)};
    beast::error_code ec;
    socket.assign(tcp::v4(), fd, ec);
    if (ec || !who) {
      ::close(fd);
      return;
    }
    if (shared_->settings.send_buffer_bytes > 0)
      socket.set_option(
        net::socket_base::send_buffer_size(shared_->settings.send_buffer_bytes),
        ec);
    http::request<http::string_body> upgrade{
      http::verb::get, req.path + (req.query.empty() ? "" : "?" + req.query),
      11};
    for (auto& [name, value] : req.headers)
      upgrade.set(name, value);
    auto session = std::make_shared<ws_session>(std::move(socket), shared_,
                                                std::move(*who));
    {
      std::lock_guard guard{mtx_};
      std::erase_if(sessions_, [](auto& w) {
        return w.expired();
      });
      sessions_.push_back(session);
    }
    session->start(std::move(upgrade));
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
  net::io_context& ioc_;
  std::shared_ptr<endpoint_shared> shared_;
  std::mutex mtx_;
  std::vector<std::weak_ptr<ws_session>> sessions_;
};

} // namespace

std::shared_ptr<upgrade_target>
make_ws_endpoint(net::io_context& ioc, ws_settings settings,
                 std::shared_ptr<hub_client> hub, ws_authenticator auth,
                 const logger& log, metrics_registry& metrics) {
  auto shared = std::make_shared<endpoint_shared>(
    settings, std::move(hub), std::move(auth), log, metrics);
  return std::make_shared<ws_endpoint>(ioc, std::move(shared));
}

} // namespace kassa
