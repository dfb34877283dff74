#include "adapters/http/api_pipeline.hpp"

#include <nlohmann/json.hpp>

namespace kassa {

namespace {

/// Compares without an early exit so timing does not leak the key.
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool is_json_content_type(std::string_view value) {
  auto semi = value.find(';');
  auto type = value.substr(0, semi);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  std::string lower;
  for (char c : type)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json"
         || (lower.size() > 5
             && lower.compare(lower.size() - 5, 5, "+json") == 0);
}

bool needs_key(std::string_view path) {
  return path.rfind("/v1/", 0) == 0 && path.rfind("/v1/webhooks/", 0) != 0;
}

} // namespace

bool api_key_matches(const std::vector<std::string>& keys,
                     std::string_view key) {
  bool ok = false;
  for (auto& k : keys)
    ok |= equal_constant_time(key, k);
  return ok;
}

std::string presented_token(const api_request& req) {
  auto value = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme)
    return std::string{value.substr(scheme.size())};
  return req.query_param("token");
}

api_pipeline::api_pipeline(router routes, std::vector<std::string> api_keys)
  : routes_(std::move(routes)), api_keys_(std::move(api_keys)) {
  // nop
}

bool api_pipeline::authorized(const api_request& req) const {
  auto value = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme)
    return false;
  return api_key_matches(api_keys_, value.substr(scheme.size()));
}

std::string api_pipeline::dispatch(api_request req,
                                   const responder_ptr& out) const {
  // Authenticate before routing so unknown /v1/ paths reveal nothing.
  if (needs_key(req.path) && !authorized(req)) {
    auto resp = error_response(401, "unauthorized",
                               "missing or unknown API key: send "
                               "'Authorization: Bearer <key>'");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    out->respond(std::move(resp));
    return "unauthorized";
  }
  auto m = routes_.match(req.method, req.path);
  if (m.found == nullptr) {
    if (m.allowed.empty()) {
      out->respond(
        error_response(404, "not_found", "no resource at " + req.path));
      return "unmatched";
    }
    std::string allow;
    for (auto& method : m.allowed)
      allow += (allow.empty() ? "" : ", ") + method;
    auto resp = error_response(405, "method_not_allowed",
                               req.method + " is not supported on " + req.path
                                 + " (allowed: " + allow + ")");
    resp.headers.emplace_back("Allow", allow);
    out->respond(std::move(resp));
    return "unmatched";
  }
  auto& r = *m.found;
  if (r.options.json_body) {
    if (!is_json_content_type(req.header("content-type"))) {
      out->respond(error_response(415, "unsupported_media_type",
                                  "send the body as application/json"));
      return r.name;
    }
    try {
      [[maybe_unused]] auto parsed = nlohmann::json::parse(req.body);
    } catch (nlohmann::json::parse_error& e) {
      out->respond(
        error_response(400, "malformed_json",
                       std::string{"the body is not valid JSON: "} + e.what()));
      return r.name;
    }
  }
  req.path_params = std::move(m.params);
  try {
    r.handler(req, out);
  } catch (std::exception& e) {
    // Boundary: a handler bug answers 500 and never takes the node down.
    out->respond(error_response(500, "internal", e.what()));
  }
  return r.name;
}

} // namespace kassa
