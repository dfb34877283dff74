#include "adapters/http/client.hpp"

#include <deque>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace kassa {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i]))
        != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct endpoint_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string prefix;
};

std::optional<endpoint_url> parse_base_url(std::string_view url) {
  endpoint_url out;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  if (slash != std::string_view::npos)
    out.prefix = std::string{url.substr(slash)};
  while (!out.prefix.empty() && out.prefix.back() == '/')
    out.prefix.pop_back();
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') { // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    out.host = std::string{authority.substr(1, close - 1)};
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return std::nullopt;
      port = rest.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != authority.npos) {
    out.host = std::string{authority.substr(0, colon)};
    port = authority.substr(colon + 1);
  } else {
    out.host = std::string{authority};
  }
  out.port
    = port.empty() ? std::string{out.tls ? "443" : "80"} : std::string{port};
  if (out.host.empty() || out.port.empty()
      || out.port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return out;
}

/// One TCP (and maybe TLS) connection; reused while the server keeps it
/// alive.
struct connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool fresh = true;

  beast::tcp_stream& lowest() {
    return tls ? beast::get_lowest_layer(*tls) : *plain;
  }
};

} // namespace

std::string http_outcome::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return {};
}

/// Handlers capture `this`: the client stops and joins the I/O thread before
/// the impl goes, and the io_context (declared first, destroyed last) then
/// destroys what is still queued.
class http_client::impl {
public:
  impl(http_client_options options, endpoint_url url)
    : options_(std::move(options)), url_(std::move(url)),
      ssl_ctx_(ssl::context::tls_client), strand_(net::make_strand(io_)),
      resolver_(strand_), work_(net::make_work_guard(io_)) {}

  std::string init() {
    boost::system::error_code ec;
    ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (options_.ca_file.empty())
      ssl_ctx_.set_default_verify_paths(ec);
    else
      ssl_ctx_.load_verify_file(options_.ca_file, ec);
    if (ec)
      return "cannot load trusted certificates: " + ec.message();
    thread_ = std::thread([this] {
      run_guarded(io_, options_.faults, "http_client_io");
    });
    return {};
  }

  void stop() {
    work_.reset();
    io_.stop();
    if (thread_.joinable())
      thread_.join();
  }

  bool on_io_thread() const {
    return thread_.get_id() == std::this_thread::get_id();
  }

  void send(http_call call, std::function<void(http_outcome)> done) {
    net::post(strand_, [self = this, call = std::move(call),
                        done = std::move(done)]() mutable {
      self->start(std::move(call), std::move(done));
    });
  }

  const http_client_options& options() const {
    return options_;
  }

private:
  using conn_ptr = std::shared_ptr<connection>;
  using done_fn = std::function<void(http_outcome)>;

  struct exchange {
    conn_ptr conn;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    done_fn done;
  };
  using exchange_ptr = std::shared_ptr<exchange>;

  void start(http_call call, done_fn done) {
    auto ex = std::make_shared<exchange>();
    ex->done = std::move(done);
    auto& req = ex->req;
    req.method_string(call.method);
    req.target(url_.prefix + call.target);
    req.version(11);
    req.set(http::field::host, url_.host);
    req.set(http::field::user_agent, "kassa/" KASSA_VERSION);
    if (!call.content_type.empty())
      req.set(http::field::content_type, call.content_type);
    for (auto& [k, v] : call.headers)
      req.set(k, v);
    for (auto& [k, v] : options_.default_headers)
      req.set(k, v);
    req.body() = std::move(call.body);
    req.prepare_payload();
    if (!idle_.empty()) {
      ex->conn = std::move(idle_.back());
      idle_.pop_back();
      ex->conn->fresh = false;
      write(ex);
      return;
    }
    ex->conn = std::make_shared<connection>();
    if (url_.tls)
      ex->conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(
        strand_, ssl_ctx_);
    else
      ex->conn->plain = std::make_unique<beast::tcp_stream>(strand_);
    ex->conn->lowest().expires_after(options_.timeout);
    resolver_.async_resolve(
      url_.host, url_.port,
      [self = this, ex](beast::error_code ec,
                        tcp::resolver::results_type results) {
        if (ec)
          return self->fail(ex, "resolve", ec, false);
        ex->conn->lowest().async_connect(
          results, [self, ex](beast::error_code ec, const tcp::endpoint&) {
            if (ec)
              return self->fail(ex, "connect", ec, false);
            if (!ex->conn->tls)
              return self->write(ex);
            self->handshake(ex);
          });
      });
  }

  void handshake(const exchange_ptr& ex) {
    auto& tls = *ex->conn->tls;
    if (!SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str()))
      return fail(ex, "tls",
                  beast::error_code{static_cast<int>(::ERR_get_error()),
                                    net::error::get_ssl_category()},
                  false);
    tls.set_verify_callback(ssl::host_name_verification(url_.host));
    tls.async_handshake(ssl::stream_base::client,
                        [self = this, ex](beast::error_code ec) {
                          if (ec)
                            return self->fail(ex, "tls handshake", ec, false);
                          self->write(ex);
                        });
  }

  void write(const exchange_ptr& ex) {
    ex->conn->lowest().expires_after(options_.timeout);
    auto next = [self = this, ex](beast::error_code ec, size_t) {
      if (ec)
        return self->fail(ex, "write", ec, true);
      self->read(ex);
    };
    if (ex->conn->tls)
      http::async_write(*ex->conn->tls, ex->req, std::move(next));
    else
      http::async_write(*ex->conn->plain, ex->req, std::move(next));
  }

  void read(const exchange_ptr& ex) {
    auto next = [self = this, ex](beast::error_code ec, size_t) {
      if (ec)
        return self->fail(ex, "read", ec, true);
      self->finish(ex);
    };
    auto& c = *ex->conn;
    if (c.tls)
      http::async_read(*c.tls, c.buffer, ex->res, std::move(next));
    else
      http::async_read(*c.plain, c.buffer, ex->res, std::move(next));
  }

  void finish(const exchange_ptr& ex) {
    http_outcome out;
    out.status = static_cast<int>(ex->res.result_int());
    for (auto& field : ex->res)
      out.headers.emplace_back(std::string{field.name_string()},
                               std::string{field.value()});
    out.body = std::move(ex->res.body());
    if (ex->res.keep_alive() && idle_.size() < options_.max_idle) {
      ex->conn->lowest().expires_never();
      idle_.push_back(std::move(ex->conn));
    }
    ex->done(std::move(out));
  }

  void fail(const exchange_ptr& ex, const char* stage, beast::error_code ec,
            bool maybe_sent) {
    http_outcome out;
    out.error = std::string{stage} + ": "
                + (ec == beast::error::timeout ? std::string{"timed out"}
                                               : ec.message());
    out.maybe_sent = maybe_sent;
    // The connection is dropped; its socket closes with it.
    ex->done(std::move(out));
  }

  http_client_options options_;
  endpoint_url url_;
  net::io_context io_{1};
  ssl::context ssl_ctx_;
  net::strand<net::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<conn_ptr> idle_;
};

std::shared_ptr<http_client> http_client::make(http_client_options options,
                                               std::string& error) {
  auto url = parse_base_url(options.base_url);
  if (!url) {
    error = "invalid base URL \"" + options.base_url
            + "\": expected http(s)://host[:port][/prefix]";
    return nullptr;
  }
  auto p = std::make_unique<impl>(std::move(options), std::move(*url));
  if (error = p->init(); !error.empty())
    return nullptr;
  return std::shared_ptr<http_client>(new http_client(std::move(p)));
}

http_client::http_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_client::~http_client() {
  if (impl_->on_io_thread()) {
    // The last owner let go inside one of our own callbacks: the I/O thread
    // cannot join itself, so another thread joins it and frees the rest.
    std::thread([p = std::move(impl_)] {
      p->stop();
    }).detach();
    return;
  }
  impl_->stop();
}

void http_client::send(http_call call, std::function<void(http_outcome)> done) {
  impl_->send(std::move(call), std::move(done));
}

const http_client_options& http_client::options() const {
  return impl_->options();
}

} // namespace kassa
