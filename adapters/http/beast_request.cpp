#include "adapters/http/beast_request.hpp"

#include <cctype>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace kassa {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

api_request to_api_request(http::request<http::string_body>& msg) {
  api_request req;
  req.method = std::string{msg.method_string()};
  auto target = std::string_view{msg.target()};
  auto qmark = target.find('?');
  req.path = std::string{target.substr(0, qmark)};
  if (qmark != std::string_view::npos)
    req.query = std::string{target.substr(qmark + 1)};
  req.headers.reserve(8);
  for (auto& field : msg) {
    std::string name{field.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string{field.value()});
  }
  req.body = std::move(msg.body());
  return req;
}

/// Ignores the errors that only mean "the connection is gone".
bool is_disconnect(const boost::system::error_code& ec) {
  return ec == net::error::operation_aborted || ec == net::error::eof
         || ec == http::error::end_of_stream || ec == beast::error::timeout
         || ec == net::error::connection_reset || ec == net::error::broken_pipe
         || ec == net::error::not_connected || ec == net::error::bad_descriptor;
}

} // namespace kassa
