#include "node/routes/request_checks.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace kassa {

std::optional<api_response>
read_idempotency(const api_request& req, std::string scope, idempotency& out) {
  auto key = req.header("idempotency-key");
  if (key.size() > 255)
    return error_response(422, "invalid_idempotency_key",
                          "Idempotency-Key is longer than 255 characters",
                          "Idempotency-Key");
  out.scope = std::move(scope);
  out.key = std::string{key};
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(req.method);
  mix(req.path);
  mix(req.body);
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  out.request_hash = buf;
  return std::nullopt;
}

api_response invalid_field(const std::string& field, const std::string& why) {
  return error_response(422, "invalid_field", field + ": " + why, field);
}

std::optional<api_response>
check_object(const nlohmann::json& body,
             std::initializer_list<const char*> allowed) {
  if (!body.is_object())
    return error_response(422, "invalid_body",
                          "the body must be a JSON object");
  for (auto& [key, value] : body.items()) {
    bool known = false;
    for (auto a : allowed)
      known |= key == a;
    if (!known)
      return invalid_field(key, "unknown field");
  }
  return std::nullopt;
}

std::optional<api_response> read_string(const nlohmann::json& body,
                                        const char* field, size_t max_len,
                                        std::string& out) {
  auto i = body.find(field);
  if (i == body.end())
    return invalid_field(field, "required");
  if (!i->is_string())
    return invalid_field(field, "must be a string");
  out = i->get<std::string>();
  if (out.empty() || out.size() > max_len)
    return invalid_field(field, "must have 1 to " + std::to_string(max_len)
                                  + " characters");
  return std::nullopt;
}

std::optional<api_response> read_integer(const nlohmann::json& body,
                                         const char* field, int64_t min,
                                         int64_t max, int64_t& out) {
  auto i = body.find(field);
  if (i == body.end())
    return invalid_field(field, "required");
  if (!i->is_number_integer())
    return invalid_field(field, "must be an integer");
  if (i->is_number_unsigned()
      && i->get<uint64_t>() > static_cast<uint64_t>(max))
    return invalid_field(field, "must be at most " + std::to_string(max));
  out = i->get<int64_t>();
  if (out < min || out > max)
    return invalid_field(field, "must be between " + std::to_string(min)
                                  + " and " + std::to_string(max));
  return std::nullopt;
}

namespace {

/// Reads query parameter `name` into `out` (absent: `out` unchanged);
/// false when it is not an integer.
bool read_query_number(const api_request& req, const char* name, int64_t& out) {
  auto text = req.query_param(name);
  if (text.empty())
    return true;
  try {
    size_t used = 0;
    out = std::stoll(std::string{text}, &used);
    return used == text.size();
  } catch (...) {
    return false;
  }
}

} // namespace

std::optional<api_response> read_page(const api_request& req, int64_t max_limit,
                                      int64_t& after, int64_t& limit) {
  if (!read_query_number(req, "after", after) || after < 0)
    return invalid_field("after", "must be an integer >= 0");
  return read_query_integer(req, "limit", 1, max_limit, limit);
}

std::optional<api_response> read_query_integer(const api_request& req,
                                               const char* name, int64_t min,
                                               int64_t max, int64_t& out) {
  if (!read_query_number(req, name, out) || out < min || out > max)
    return invalid_field(name, "must be an integer from " + std::to_string(min)
                                 + " to " + std::to_string(max));
  return std::nullopt;
}

} // namespace kassa
