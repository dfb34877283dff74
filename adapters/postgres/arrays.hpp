#pragma once

// Adapter-private: PostgreSQL array literals, so a batch of rows travels as
// a few array parameters of one statement (`unnest($1::text[], ...)`) — one
// statement text, prepared once, whatever the batch size.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kassa::pg {

/// `{"a","b"}`: every element quoted, `"` and `\` escaped.
std::string text_array(const std::vector<std::string>& items);

/// As above; nullopt elements are SQL NULL.
std::string text_array(const std::vector<std::optional<std::string>>& items);

/// `{1,2,3}`.
std::string int_array(const std::vector<int64_t>& items);

/// An element of a nullable text column: empty = NULL.
std::optional<std::string> null_if_empty(const std::string& value);

/// An element of a `jsonb` column that is never NULL: empty = `{}`.
std::string json_or_empty_object(const std::string& value);

} // namespace kassa::pg
