#include "adapters/postgres/arrays.hpp"

namespace kassa::pg {

namespace {

void append_quoted(std::string& out, const std::string& item) {
  out += '"';
  for (char c : item) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

} // namespace

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (auto& item : items) {
    if (out.size() > 1)
      out += ',';
    append_quoted(out, item);
  }
  return out + "}";
}

std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
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
  return out + "}";
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
