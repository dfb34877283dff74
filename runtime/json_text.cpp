#include "runtime/json_text.hpp"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace kassa {

namespace {

/// Length of the valid UTF-8 sequence starting at `s[i]` (a byte >= 0x80),
/// or 0 when it is not one (overlong forms, surrogates and code points past
/// U+10FFFF included).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) {
    return static_cast<uint8_t>(s[k]);
  };
  auto cont = [&](size_t k) {
    return k < s.size() && (byte(k) & 0xC0) == 0x80;
  };
  uint8_t b = byte(i);
  if (b >= 0xC2 && b <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    uint8_t b1 = byte(i + 1);
    if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0))
      return 0;
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    uint8_t b1 = byte(i + 1);
    if ((b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 >= 0x90))
      return 0;
    return 4;
  }
  return 0;
}

} // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  // Runs of bytes that go out as they are (printable ASCII, valid UTF-8)
  // are appended whole: a byte at a time was 5 % of a saga's instructions.
  size_t from = 0;
  size_t i = 0;
  auto flush = [&] {
    out.append(text.data() + from, i - from);
  };
  while (i < text.size()) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (auto n = utf8_sequence(text, i)) {
        i += n;
        continue;
      }
      flush();
      out += "\xEF\xBF\xBD"; // U+FFFD for the one bad byte
      from = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      }
    }
    from = ++i;
  }
  flush();
}

void append_json_string(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

namespace {

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size()
         && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
    ++i;
}

/// From the opening quote at `i` to just past the closing one.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return s.size();
}

/// From a value's first character to just past it.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size())
    return i;
  if (s[i] == '"')
    return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        continue;
      }
      if (c == '{' || c == '[')
        ++depth;
      else if ((c == '}' || c == ']') && --depth == 0)
        return i + 1;
      ++i;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']'
         && s[i] != ' ' && s[i] != '\n')
    ++i;
  return i;
}

} // namespace

std::string_view json_member(std::string_view s, std::string_view key) {
  size_t i = 0;
  skip_space(s, i);
  if (i >= s.size() || s[i] != '{')
    return {};
  ++i;
  while (i < s.size()) {
    skip_space(s, i);
    if (i >= s.size() || s[i] != '"')
      return {};
    auto name_end = skip_string(s, i);
    auto name = s.substr(i + 1, name_end - i - 2);
    i = name_end;
    skip_space(s, i);
    if (i >= s.size() || s[i] != ':')
      return {};
    ++i;
    skip_space(s, i);
    if (i >= s.size())
      return {};
    auto value_end = skip_value(s, i);
    if (name == key) {
      if (s[i] == '"')
        return s.substr(i + 1, value_end - i - 2);
      if (s[i] == '{' || s[i] == '[')
        return {};
      return s.substr(i, value_end - i);
    }
    i = value_end;
    skip_space(s, i);
    if (i < s.size() && s[i] == ',')
      ++i;
    else
      return {};
  }
  return {};
}

long long json_member_int(std::string_view object, std::string_view key) {
  auto text = json_member(object, key);
  long long value = 0;
  auto [end, ec]
    = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() ? value : 0;
}

} // namespace kassa
