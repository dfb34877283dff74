#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kassa {

struct principal;

/// One HTTP request as the core sees it: no Beast types, cheap to move into a
/// message. Header names are lower case.
struct api_request {
  std::string method;
  std::string path;  ///< Without the query string, percent-decoded.
  std::string query; ///< Raw text after '?', if any.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  std::vector<std::pair<std::string, std::string>> path_params;
  /// The body parsed once by the pipeline (routes with `json_body`): set
  /// before the handler runs, null otherwise.
  std::shared_ptr<nlohmann::json> json;
  /// Who sent it (set by the pipeline on authenticated routes).
  std::shared_ptr<const principal> who;

  /// The parsed body; only on routes with `json_body`.
  nlohmann::json& body_json() const {
    return *json;
  }

  /// Value of a header (lower-case name) or an empty view.
  std::string_view header(std::string_view name) const;
  /// Value of a path parameter such as {id}, or an empty view.
  std::string_view param(std::string_view name) const;
  /// Decoded value of a query parameter, or an empty string.
  std::string query_param(std::string_view name) const;
};

/// One HTTP response. `body` is sent as is.
struct api_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Where an answer goes. The HTTP session implements it: `respond` may be
/// called from any thread (an actor's) exactly once; it posts the answer to
/// the session's strand and returns at once, so no CAF worker ever waits on a
/// socket.
class responder {
public:
  virtual ~responder() = default;
  virtual void respond(api_response response) = 0;
};

using responder_ptr = std::shared_ptr<responder>;

/// `{"error":{"code":...,"message":...,"field":...}}` with `status`.
api_response error_response(int status, std::string_view code,
                            std::string_view message,
                            std::string_view field = {});

/// 500 `internal`: a bug or an exhausted resource; the message names the
/// request id under which the node logged what happened.
api_response internal_error(std::string_view request_id);

/// A 200/201/202 JSON response with `body` already serialized.
api_response json_response(int status, std::string body);

} // namespace kassa
