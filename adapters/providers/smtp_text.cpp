#include <algorithm>
#include <cctype>
#include <ctime>
#include <openssl/evp.h>

#include "adapters/providers/smtp.hpp"

// The SMTP adapter's plain parts (adapters/providers/smtp.hpp): replies,
// the message's text, its id, base64. Unit-tested without a server.

namespace kassa {

std::optional<smtp_reply> parse_smtp_reply(std::string_view buffer,
                                           size_t& consumed) {
  smtp_reply reply;
  size_t pos = 0;
  for (;;) {
    auto end = buffer.find("\r\n", pos);
    if (end == std::string_view::npos)
      return std::nullopt;
    auto line = buffer.substr(pos, end - pos);
    pos = end + 2;
    if (line.size() < 3)
      return smtp_reply{0, std::string{line}}; // not SMTP: code 0
    int code = 0;
    for (size_t i = 0; i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') {
        consumed = pos;
        return smtp_reply{0, std::string{line}};
      }
      code = code * 10 + (line[i] - '0');
    }
    reply.code = code;
    if (!reply.text.empty())
      reply.text += '\n';
    reply.text += line.size() > 4 ? std::string{line.substr(4)} : "";
    if (line.size() == 3 || line[3] != '-') {
      consumed = pos;
      return reply;
    }
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string smtp_message_id(std::string_view id, std::string_view host) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "<";
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '=';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  out += '@';
  out += host;
  out += '>';
  return out;
}

namespace {

bool ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80)
      return false;
  return true;
}

/// Line breaks in a header value would start a new header.
std::string one_line(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c == '\r' || c == '\n')
      c = ' ';
  return out;
}

/// RFC 2047 encoded words of at most 45 bytes of UTF-8 each (whole
/// characters), folded onto continuation lines.
std::string encoded_words(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = std::min<size_t>(45, text.size() - pos);
    // Do not cut a character: step back over continuation bytes.
    while (pos + len < text.size() && len > 0
           && (static_cast<unsigned char>(text[pos + len]) & 0xC0) == 0x80)
      --len;
    if (!out.empty())
      out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(text.substr(pos, len)) + "?=";
    pos += len;
  }
  return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point now) {
  auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

} // namespace

std::string smtp_message_text(const smtp_mail& mail, std::string_view from,
                              std::string_view host, bool eight_bit,
                              std::chrono::system_clock::time_point now) {
  auto subject = one_line(mail.subject);
  std::string out;
  out.reserve(mail.body.size() + 512);
  out += "From: " + one_line(from) + "\r\n";
  out += "To: " + one_line(mail.to) + "\r\n";
  out += "Subject: " + (ascii(subject) ? subject : encoded_words(subject))
         + "\r\n";
  out += "Date: " + rfc5322_date(now) + "\r\n";
  out += "Message-ID: " + smtp_message_id(mail.id, host) + "\r\n";
  out += "X-Kassa-Message-Id: " + one_line(mail.id) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  bool raw = eight_bit || ascii(mail.body);
  out += std::string{"Content-Transfer-Encoding: "}
         + (raw ? (ascii(mail.body) ? "7bit" : "8bit") : "base64") + "\r\n\r\n";
  if (!raw) {
    auto encoded = base64_encode(mail.body);
    for (size_t i = 0; i < encoded.size(); i += 76)
      out += encoded.substr(i, 76) + "\r\n";
    return out;
  }
  // CRLF line ends, and a leading dot doubled (the server takes it off).
  bool line_start = true;
  for (size_t i = 0; i < mail.body.size(); ++i) {
    char c = mail.body[i];
    if (line_start && c == '.')
      out += '.';
    line_start = false;
    if (c == '\r') {
      if (i + 1 < mail.body.size() && mail.body[i + 1] == '\n')
        ++i;
      out += "\r\n";
      line_start = true;
    } else if (c == '\n') {
      out += "\r\n";
      line_start = true;
    } else {
      out += c;
    }
  }
  if (!line_start)
    out += "\r\n";
  return out;
}

} // namespace kassa
