#include "adapters/postgres/arrays.hpp"

namespace kassa::pg {

namespace {

/// Appends `item` as a quoted array element (JSON data are most of a
/// journal batch's bytes). Written in place into room for the worst case:
/// JSON's quotes come every few characters, and an append per run between
/// them cost more than the characters (`find_first_of` before that was one
/// memchr call per character: 5 % of a saga's instructions).
void append_quoted(std::string& out, std::string_view item) {
  auto start = out.size();
  out.resize(start + 2 * item.size() + 2);
  char* p = out.data() + start;
  *p++ = '"';
  for (char c : item) {
    if (c == '"' || c == '\\')
      *p++ = '\\';
    *p++ = c;
  }
  *p++ = '"';
  out.resize(static_cast<size_t>(p - out.data()));
}

/// Room for the elements, their quotes and commas, and the worst case of
/// escapes append_quoted makes room for (so it never reallocates).
template <class Items, class Size>
size_t array_bytes(const Items& items, Size size_of) {
  size_t bytes = 2;
  for (auto& item : items)
    bytes += 2 * size_of(item) + 3;
  return bytes;
}

} // namespace

std::string text_array(const std::vector<std::string>& items) {
  std::string out;
  out.reserve(array_bytes(items, [](auto& s) {
    return s.size();
  }));
  out += '{';
  for (auto& item : items) {
    if (out.size() > 1)
      out += ',';
    append_quoted(out, item);
  }
  out += '}';
  return out;
}

std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out;
  out.reserve(array_bytes(items, [](auto& s) {
    return s ? s->size() : size_t{4};
  }));
  out += '{';
  bool first = true;
  for (auto& item : items) {
    if (!first)
      out += ',';
    first = false;
    if (item)
      append_quoted(out, *item);
    else
      out += "NULL"; // unquoted: SQL NULL, not the text "NULL"
  }
  out += '}';
  return out;
}

std::optional<std::string> null_if_empty(const std::string& value) {
  if (value.empty())
    return std::nullopt;
  return value;
}

std::string json_or_empty_object(const std::string& value) {
  return value.empty() ? std::string{"{}"} : value;
}

bool joins_array_parameter(std::string_view sql) {
  if (sql.find("ANY($") != std::string_view::npos
      || sql.find("JOIN unnest(") != std::string_view::npos)
    return true;
  bool changes_rows = sql.starts_with("UPDATE") || sql.starts_with("DELETE");
  // A data-modifying CTE (`WITH x AS (UPDATE ... FROM unnest(...)) ...`).
  if (sql.starts_with("WITH"))
    changes_rows = sql.find(" UPDATE ") != std::string_view::npos
                   || sql.find(" DELETE ") != std::string_view::npos;
  return changes_rows && sql.find("unnest(") != std::string_view::npos;
}

std::string int_array(const std::vector<int64_t>& items) {
  std::string out = "{";
  for (auto item : items) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(item);
  }
  return out + "}";
}

} // namespace kassa::pg
