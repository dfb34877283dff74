#pragma once

// Writing JSON text directly, where building a nlohmann object only to print
// it cost more than the work it served (a journal entry's data: ~4 % of the
// node's samples in the saga benchmark).

#include <string>
#include <string_view>

namespace kassa {

/// Appends `text` to `out` as the inside of a JSON string literal: quotes,
/// backslashes and control characters escaped; bytes that are not valid
/// UTF-8 become U+FFFD (as nlohmann's `error_handler_t::replace` does), so
/// the result is always valid JSON and valid PostgreSQL text — whatever a
/// client or a provider put into the text.
void append_json_escaped(std::string& out, std::string_view text);

/// The same with the quotes: a JSON string literal.
void append_json_string(std::string& out, std::string_view text);

/// The value of top-level member `key` of the JSON object `object`, read
/// without parsing the whole object (the statistics read a few fields of
/// every event: a full parse was a third of the node's work): a string's
/// contents as they stand between the quotes (escapes left as they are), a
/// number's or literal's text; empty when absent or an object or array.
/// Members of nested objects and arrays are skipped, so a nested key of the
/// same name is never taken for the top-level one.
std::string_view json_member(std::string_view object, std::string_view key);

/// `json_member` as an integer (0 when absent or not an integer).
long long json_member_int(std::string_view object, std::string_view key);

} // namespace kassa
