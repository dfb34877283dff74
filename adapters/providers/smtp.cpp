#include "adapters/providers/smtp.hpp"

#include <ctime>
#include <deque>
#include <thread>
#include <utility> // std::exchange, which Boost 1.74's awaitable.hpp misses
#include <vector>

// Boost 1.74's Asio turns co_await on for clang only with libc++'s
// <experimental/coroutine>; clang 14 (the sanitize and fuzz builds) has
// C++20 coroutines with libstdc++'s <coroutine> too.
#if defined(__clang__) && defined(__cpp_impl_coroutine)                      \
  && __has_include(<coroutine>) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#  define BOOST_ASIO_HAS_CO_AWAIT 1
#  define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/contact_logic.hpp"
#include "actors/type_ids.hpp"

namespace kassa {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// ------------------------------------------------------------------- sessions

namespace {

struct smtp_job {
  smtp_mail mail;
  std::function<void(smtp_result)> done;
};

/// What a session learned from EHLO.
struct server_offers {
  bool starttls = false, eight_bit = false, pipelining = false;
  bool auth_plain = false;
};

server_offers read_offers(const std::string& ehlo_text) {
  server_offers o;
  size_t pos = 0;
  while (pos <= ehlo_text.size()) {
    auto end = ehlo_text.find('\n', pos);
    if (end == std::string::npos)
      end = ehlo_text.size();
    std::string line = ehlo_text.substr(pos, end - pos);
    for (auto& c : line)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (line == "STARTTLS")
      o.starttls = true;
    else if (line == "8BITMIME")
      o.eight_bit = true;
    else if (line == "PIPELINING")
      o.pipelining = true;
    else if (line.rfind("AUTH", 0) == 0
             && line.find("PLAIN") != std::string::npos)
      o.auth_plain = true;
    pos = end + 1;
  }
  return o;
}

std::string reply_text(const smtp_reply& r) {
  auto text = r.text;
  for (auto& c : text)
    if (c == '\n')
      c = ' ';
  return std::to_string(r.code) + " " + text;
}

} // namespace

class smtp_client::impl {
public:
  explicit impl(smtp_settings s)
    : s_(std::move(s)), ssl_ctx_(ssl::context::tls_client),
      work_(net::make_work_guard(io_)) {}

  std::string init() {
    error_code ec;
    ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (s_.ca_file.empty())
      ssl_ctx_.set_default_verify_paths(ec);
    else
      ssl_ctx_.load_verify_file(s_.ca_file, ec);
    if (ec)
      return "cannot load trusted certificates: " + ec.message();
    for (size_t i = 0; i < s_.connections; ++i)
      net::co_spawn(io_, session(), net::detached);
    thread_ = std::thread([this] {
      run_guarded(io_, s_.faults, "smtp_client_io");
    });
    return {};
  }

  void stop() {
    work_.reset();
    io_.stop();
    if (thread_.joinable())
      thread_.join();
  }

  void send(smtp_mail mail, std::function<void(smtp_result)> done) {
    net::post(
      io_, [this, job = smtp_job{std::move(mail), std::move(done)}]() mutable {
        queue_.push_back(std::move(job));
        wake_one();
      });
  }

  const smtp_settings& settings() const {
    return s_;
  }

private:
  /// One open session: the socket, TLS once started, what was read.
  struct conn {
    explicit conn(net::io_context& io) : sock(io), deadline(io) {}
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;
    net::steady_timer deadline;
    std::string buf;
    server_offers offers;
    bool closed = false;
  };

  void wake_one() {
    if (idle_.empty())
      return;
    auto* t = idle_.front();
    idle_.pop_front();
    t->cancel();
  }

  /// Waits until a job is queued (or `limit` passes: false).
  net::awaitable<bool> wait_for_job(std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (queue_.empty()) {
      if (std::chrono::steady_clock::now() >= until)
        co_return false;
      net::steady_timer t{io_, until};
      idle_.push_back(&t);
      error_code ec;
      co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
      std::erase(idle_, &t);
    }
    co_return true;
  }

  /// Closes the socket when the step under way outlives its deadline.
  net::awaitable<void> watch(std::shared_ptr<conn> c) {
    while (!c->closed) {
      error_code ec;
      co_await c->deadline.async_wait(
        net::redirect_error(net::use_awaitable, ec));
      if (c->closed)
        break;
      if (c->deadline.expiry() <= std::chrono::steady_clock::now()) {
        c->sock.close(ec);
        break;
      }
    }
  }

  void arm(conn& c) {
    c.deadline.expires_after(s_.timeout);
  }

  net::awaitable<void> write(conn& c, const std::string& data, error_code& ec) {
    arm(c);
    if (c.tls)
      co_await net::async_write(*c.tls, net::buffer(data),
                                net::redirect_error(net::use_awaitable, ec));
    else
      co_await net::async_write(c.sock, net::buffer(data),
                                net::redirect_error(net::use_awaitable, ec));
  }

  net::awaitable<smtp_reply> read_reply(conn& c, error_code& ec) {
    arm(c);
    for (;;) {
      size_t used = 0;
      if (auto r = parse_smtp_reply(c.buf, used)) {
        c.buf.erase(0, used);
        co_return *r;
      }
      if (c.buf.size() > 65536) {
        ec = net::error::message_size;
        co_return smtp_reply{};
      }
      char chunk[4096];
      size_t n = 0;
      if (c.tls)
        n = co_await c.tls->async_read_some(
          net::buffer(chunk), net::redirect_error(net::use_awaitable, ec));
      else
        n = co_await c.sock.async_read_some(
          net::buffer(chunk), net::redirect_error(net::use_awaitable, ec));
      if (ec)
        co_return smtp_reply{};
      c.buf.append(chunk, n);
    }
  }

  /// A command and its reply; "" when the reply has `expect`'s first digit,
  /// else why not (a transport error sets `ec`).
  net::awaitable<smtp_reply> command(conn& c, const std::string& line,
                                     error_code& ec) {
    co_await write(c, line, ec);
    if (ec)
      co_return smtp_reply{};
    co_return co_await read_reply(c, ec);
  }

  /// Connects, greets, starts TLS and authenticates; "" or why not.
  net::awaitable<std::string> open(std::shared_ptr<conn> c) {
    error_code ec;
    tcp::resolver resolver{io_};
    arm(*c);
    auto endpoints = co_await resolver.async_resolve(
      s_.host, std::to_string(s_.port),
      net::redirect_error(net::use_awaitable, ec));
    if (ec)
      co_return "resolve " + s_.host + ": " + ec.message();
    arm(*c);
    co_await net::async_connect(c->sock, endpoints,
                                net::redirect_error(net::use_awaitable, ec));
    if (ec)
      co_return "connect " + s_.host + ":" + std::to_string(s_.port) + ": "
        + ec.message();
    auto greeting = co_await read_reply(*c, ec);
    if (ec)
      co_return "greeting: " + ec.message();
    if (greeting.code != 220)
      co_return "greeting: " + reply_text(greeting);
    auto ehlo = co_await command(*c, "EHLO " + s_.helo + "\r\n", ec);
    if (ec || ehlo.code != 250)
      co_return "EHLO: " + (ec ? ec.message() : reply_text(ehlo));
    c->offers = read_offers(ehlo.text);
    if (s_.starttls) {
      if (!c->offers.starttls)
        co_return "the server does not offer STARTTLS (smtp.tls is "
                  "starttls)";
      auto go = co_await command(*c, "STARTTLS\r\n", ec);
      if (ec || go.code != 220)
        co_return "STARTTLS: " + (ec ? ec.message() : reply_text(go));
      c->buf.clear(); // nothing read before TLS counts after it
      c->tls = std::make_unique<ssl::stream<tcp::socket&>>(c->sock, ssl_ctx_);
      if (!SSL_set_tlsext_host_name(c->tls->native_handle(), s_.host.c_str()))
        co_return "TLS: cannot set the server name";
      c->tls->set_verify_callback(ssl::host_name_verification(s_.host));
      arm(*c);
      co_await c->tls->async_handshake(
        ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
      if (ec)
        co_return "TLS handshake: " + ec.message();
      ehlo = co_await command(*c, "EHLO " + s_.helo + "\r\n", ec);
      if (ec || ehlo.code != 250)
        co_return "EHLO after STARTTLS: "
          + (ec ? ec.message() : reply_text(ehlo));
      c->offers = read_offers(ehlo.text);
    }
    if (!s_.username.empty()) {
      if (!c->offers.auth_plain)
        co_return "the server does not offer AUTH PLAIN";
      std::string creds;
      creds += '\0';
      creds += s_.username;
      creds += '\0';
      creds += s_.password;
      auto auth = co_await command(
        *c, "AUTH PLAIN " + base64_encode(creds) + "\r\n", ec);
      if (ec || auth.code != 235)
        co_return "AUTH: " + (ec ? ec.message() : reply_text(auth));
    }
    co_return std::string{};
  }

  /// Sends one message on an open session. `broken` when the session
  /// cannot go on.
  net::awaitable<smtp_result> deliver(conn& c, const smtp_mail& mail,
                                      bool& broken) {
    error_code ec;
    auto fail = [&](smtp_result::kind_t k, std::string why) {
      return smtp_result{k, std::move(why), {}};
    };
    auto classify = [](const smtp_reply& r) {
      return r.code >= 500 ? smtp_result::permanent : smtp_result::transient;
    };
    auto mail_from = "MAIL FROM:<" + s_.from + ">"
                     + (c.offers.eight_bit ? " BODY=8BITMIME" : "") + "\r\n";
    auto rcpt = "RCPT TO:<" + mail.to + ">\r\n";
    smtp_reply r1, r2, r3;
    if (c.offers.pipelining) {
      co_await write(c, mail_from + rcpt + "DATA\r\n", ec);
      if (!ec)
        r1 = co_await read_reply(c, ec);
      if (!ec)
        r2 = co_await read_reply(c, ec);
      if (!ec)
        r3 = co_await read_reply(c, ec);
    } else {
      r1 = co_await command(c, mail_from, ec);
      if (!ec && r1.code == 250)
        r2 = co_await command(c, rcpt, ec);
      if (!ec && r1.code == 250 && r2.code / 100 == 2)
        r3 = co_await command(c, "DATA\r\n", ec);
    }
    if (ec) {
      broken = true;
      co_return fail(smtp_result::transient, "smtp: " + ec.message());
    }
    if (r1.code != 250 || r2.code / 100 != 2 || r3.code != 354) {
      // Nothing was sent: end the transaction and say why.
      auto& bad = r1.code != 250 ? r1 : r2.code / 100 != 2 ? r2 : r3;
      if (r3.code == 354) { // pipelined: DATA was taken; end it empty
        co_await command(c, ".\r\n", ec);
      }
      if (!ec)
        co_await command(c, "RSET\r\n", ec);
      broken = static_cast<bool>(ec);
      co_return fail(classify(bad), "smtp " + reply_text(bad));
    }
    auto text = smtp_message_text(mail, s_.from, s_.helo, c.offers.eight_bit,
                                  std::chrono::system_clock::now());
    text += ".\r\n";
    co_await write(c, text, ec);
    smtp_reply done;
    if (!ec)
      done = co_await read_reply(c, ec);
    if (ec) {
      broken = true;
      co_return fail(smtp_result::unknown,
                     "smtp: no answer to the message's data: " + ec.message());
    }
    if (done.code != 250)
      co_return fail(classify(done), "smtp " + reply_text(done));
    co_return smtp_result{smtp_result::sent, reply_text(done),
                          smtp_message_id(mail.id, s_.helo)};
  }

  net::awaitable<void> session() {
    for (;;) {
      if (!co_await wait_for_job(std::chrono::hours{24}))
        continue;
      auto c = std::make_shared<conn>(io_);
      net::co_spawn(io_, watch(c), net::detached);
      auto why = co_await open(c);
      if (!why.empty()) {
        close(*c);
        // The server is not there: the job at the head learns it (its
        // connection decides whether to retry); the next job tries anew.
        if (!queue_.empty()) {
          auto job = std::move(queue_.front());
          queue_.pop_front();
          job.done({smtp_result::transient, "smtp: " + why, {}});
        }
        continue;
      }
      // Sends while there is work; an idle session is closed after 30 s.
      bool broken = false;
      while (!broken && co_await wait_for_job(std::chrono::seconds{30})) {
        auto job = std::move(queue_.front());
        queue_.pop_front();
        auto result = co_await deliver(*c, job.mail, broken);
        job.done(std::move(result));
      }
      if (!broken) {
        error_code ec;
        co_await command(*c, "QUIT\r\n", ec);
      }
      close(*c);
    }
  }

  void close(conn& c) {
    c.closed = true;
    c.deadline.cancel();
    error_code ec;
    c.sock.close(ec);
  }

  smtp_settings s_;
  net::io_context io_;
  ssl::context ssl_ctx_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::deque<smtp_job> queue_;
  std::deque<net::steady_timer*> idle_;
  std::thread thread_;
};

std::shared_ptr<smtp_client> smtp_client::make(smtp_settings settings,
                                               std::string& error) {
  if (settings.host.empty()) {
    error = "no host";
    return nullptr;
  }
  if (settings.connections == 0)
    settings.connections = 1;
  auto p = std::make_unique<impl>(std::move(settings));
  error = p->init();
  if (!error.empty())
    return nullptr;
  return std::shared_ptr<smtp_client>(new smtp_client(std::move(p)));
}

smtp_client::smtp_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

smtp_client::~smtp_client() {
  impl_->stop();
}

void smtp_client::send(smtp_mail mail, std::function<void(smtp_result)> done) {
  impl_->send(std::move(mail), std::move(done));
}

const smtp_settings& smtp_client::settings() const {
  return impl_->settings();
}

// -------------------------------------------------------------------- adapter

namespace {

provider_result to_result(const provider_call& call, const smtp_result& r) {
  provider_result out{call.message_id, provider_outcome::ok, r.ref, {}};
  switch (r.kind) {
    case smtp_result::sent:
      break;
    case smtp_result::transient:
      out.outcome = provider_outcome::transient;
      out.error = r.detail;
      break;
    case smtp_result::permanent:
      out.outcome = provider_outcome::permanent;
      out.error = r.detail;
      break;
    case smtp_result::unknown:
      out.outcome = provider_outcome::unknown;
      out.error = r.detail;
      out.maybe_sent = true;
      break;
  }
  return out;
}

caf::behavior smtp_adapter(caf::event_based_actor*,
                           std::shared_ptr<smtp_client> client) {
  return {
    [client](atom::call, provider_call& call) {
      auto fields = contact_call_fields(call);
      if (call.op != "message" || !fields || fields->channel != "email") {
        caf::anon_send(call.reply_to,
                       provider_result{call.message_id,
                                       provider_outcome::permanent,
                                       {},
                                       "smtp: sends e-mail messages only"});
        return;
      }
      if (fields->to.empty()) {
        caf::anon_send(call.reply_to,
                       provider_result{call.message_id,
                                       provider_outcome::permanent,
                                       {},
                                       "smtp: the message has no recipient"});
        return;
      }
      smtp_mail mail{call.idempotency_key, fields->to, fields->subject,
                     fields->body};
      client->send(std::move(mail), [call](smtp_result r) {
        caf::anon_send(call.reply_to, to_result(call, r));
      });
    },
    [client](atom::info) {
      auto& s = client->settings();
      return nlohmann::json{{"host", s.host},
                            {"port", s.port},
                            {"starttls", s.starttls},
                            {"connections", s.connections}}
        .dump();
    },
  };
}

} // namespace

caf::actor spawn_smtp_adapter(caf::local_actor* parent,
                              std::shared_ptr<smtp_client> client) {
  return parent->spawn(smtp_adapter, std::move(client));
}

} // namespace kassa
