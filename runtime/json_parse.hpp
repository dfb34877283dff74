#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace kassa {

/// Why a text is not acceptable JSON: where (a field path such as
/// `items[0].quantity`, empty at the top level) and what, in words a client
/// can act on.
struct json_problem {
  std::string field;
  std::string message;
};

/// Deepest nesting of arrays and objects accepted from untrusted input:
/// nothing kassa takes nests deeper than a few levels, and a bound keeps
/// every recursive walk over the value (dump, destruction) shallow.
inline constexpr size_t json_max_depth = 64;

/// Parses untrusted `text` into `out` without throwing: a syntax error, a
/// number beyond the range of a double (`1e400`), or nesting deeper than
/// `max_depth` comes back as a problem naming the field it was found in.
/// `out` is unspecified after a problem.
std::optional<json_problem> parse_json(std::string_view text,
                                       nlohmann::json& out,
                                       size_t max_depth = json_max_depth);

/// `object[key]` when `object` is an object holding a string there, else
/// an empty string: for reading what a provider sent, which may be any
/// shape (nlohmann's `value()` throws on a wrong type).
std::string string_field(const nlohmann::json& object, std::string_view key);

} // namespace kassa
