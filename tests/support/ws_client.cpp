#include "support/ws_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace kassa::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
  bool closed = false;
};

ws_client::ws_client(uint16_t port, const std::string& target,
                     const std::string& bearer, int receive_buffer)
  : impl_(std::make_unique<impl>()) {
  auto& sock = impl_->ws.next_layer();
  sock.open(tcp::v4());
  if (receive_buffer > 0)
    sock.set_option(net::socket_base::receive_buffer_size(receive_buffer));
  sock.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  if (!bearer.empty())
    impl_->ws.set_option(
      websocket::stream_base::decorator([bearer](websocket::request_type& r) {
        r.set(beast::http::field::authorization, "Bearer " + bearer);
      }));
  websocket::response_type res;
  beast::error_code ec;
  impl_->ws.handshake(res, "127.0.0.1", target, ec);
  if (ec)
    throw std::runtime_error("upgrade refused: " + ec.message());
}

ws_client::~ws_client() {
  beast::error_code ec;
  if (!impl_->closed)
    impl_->ws.next_layer().close(ec);
}

void ws_client::send_text(const std::string& text) {
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(text));
}

void ws_client::send_binary(const std::string& bytes) {
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(bytes));
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) {
  if (impl_->closed)
    return std::nullopt;
  std::optional<std::string> result;
  bool done = false;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, std::size_t) {
    done = true;
    if (ec) {
      impl_->closed = true;
      return;
    }
    result = beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(impl_->buffer.size());
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (!done) {
    // Timed out: give up on this connection (Beast cannot resume a read).
    beast::error_code ec;
    impl_->ws.next_layer().cancel(ec);
    impl_->ioc.restart();
    impl_->ioc.run();
    impl_->closed = true;
  }
  return result;
}

int ws_client::close_code() const {
  return static_cast<int>(impl_->ws.reason().code);
}

std::string ws_client::close_reason() const {
  return std::string{impl_->ws.reason().reason.c_str()};
}

} // namespace kassa::test
