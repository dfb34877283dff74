#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "actors/inventory.hpp"
#include "adapters/http/api.hpp"

namespace kassa {

/// The idempotency of a request: its Idempotency-Key header (422 when longer
/// than 255 characters) and a hash of method, path and body.
std::optional<api_response>
read_idempotency(const api_request& req, std::string scope, idempotency& out);

/// A 422 `invalid_field` naming `field`.
api_response invalid_field(const std::string& field, const std::string& why);

/// Checks that `body` is an object with only `allowed` keys (422 otherwise).
std::optional<api_response>
check_object(const nlohmann::json& body,
             std::initializer_list<const char*> allowed);

/// Reads a required string of 1..max_len characters.
std::optional<api_response> read_string(const nlohmann::json& body,
                                        const char* field, size_t max_len,
                                        std::string& out);

/// Reads a required integer in [min, max].
std::optional<api_response> read_integer(const nlohmann::json& body,
                                         const char* field, int64_t min,
                                         int64_t max, int64_t& out);

/// Reads the query parameters `after` (>= 0) and `limit` (1..max_limit);
/// absent ones keep the values `after` and `limit` hold.
std::optional<api_response> read_page(const api_request& req, int64_t max_limit,
                                      int64_t& after, int64_t& limit);

/// Reads the integer query parameter `name` in [min, max]; absent, `out`
/// keeps its value.
std::optional<api_response> read_query_integer(const api_request& req,
                                               const char* name, int64_t min,
                                               int64_t max, int64_t& out);

} // namespace kassa
