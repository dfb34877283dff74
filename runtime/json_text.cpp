#include "runtime/json_text.hpp"

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

} // namespace kassa
