#include "adapters/http/api.hpp"

#include "runtime/hex.hpp"
#include "runtime/json_text.hpp"

namespace kassa {

namespace {

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()
               && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16
                               + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

} // namespace

std::string_view api_request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (key == name)
      return value;
  return {};
}

std::string_view api_request::param(std::string_view name) const {
  for (auto& [key, value] : path_params)
    if (key == name)
      return value;
  return {};
}

std::string api_request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string{}
                                          : url_decode(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view{}
                                         : rest.substr(amp + 1);
  }
  return {};
}

api_response error_response(int status, std::string_view code,
                            std::string_view message, std::string_view field) {
  std::string body = "{\"error\":{\"code\":\"";
  append_json_escaped(body, code);
  body += "\",\"message\":\"";
  append_json_escaped(body, message);
  body += '"';
  if (!field.empty()) {
    body += ",\"field\":\"";
    append_json_escaped(body, field);
    body += '"';
  }
  body += "}}";
  return api_response{status, "application/json", std::move(body), {}};
}

api_response internal_error(std::string_view request_id) {
  if (request_id.empty())
    return error_response(500, "internal",
                          "internal error; the node logged what happened");
  return error_response(500, "internal",
                        "internal error; the node logged it under request id "
                          + std::string{request_id});
}

api_response json_response(int status, std::string body) {
  return api_response{status, "application/json", std::move(body), {}};
}

} // namespace kassa
