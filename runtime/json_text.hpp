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

} // namespace kassa
