#pragma once

// Adapter-private: PostgreSQL array literals, so a batch of rows travels as
// a few array parameters of one statement (`unnest($1::text[], ...)`) — one
// statement text, prepared once, whatever the batch size.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

/// An element of a JSON column that is never NULL: empty = `{}`.
std::string json_or_empty_object(const std::string& value);

/// True when `sql` looks rows of a table up by an array parameter
/// (`= ANY($n)`, `JOIN unnest(...)`, `UPDATE ... FROM unnest(...)`): its best
/// plan depends on how many values the array holds (an index probe each, or
/// a scan), which a prepared statement's generic plan cannot know. Measured:
/// generic plans chosen while a table was small kept scanning `reservations`
/// and `idempotency_keys` sequentially once they were large. Such statements
/// are planned per call instead, also when such an UPDATE or DELETE is a
/// CTE of a larger statement. Inserting from `unnest` needs no lookup.
bool joins_array_parameter(std::string_view sql);

} // namespace kassa::pg
