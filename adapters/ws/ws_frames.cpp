#include "adapters/ws/ws_frames.hpp"

#include <array>
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace kassa::ws {

std::string accept_key(std::string_view key) {
  std::string text{key};
  text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  unsigned char out[64];
  auto n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string frame_header(uint8_t op, size_t length) {
  std::string h;
  append_frame_header(h, op, length);
  return h;
}

void append_frame_header(std::string& h, uint8_t op, size_t length) {
  h += static_cast<char>(0x80 | op);
  if (length < 126) {
    h += static_cast<char>(length);
  } else if (length <= 0xFFFF) {
    h += static_cast<char>(126);
    h += static_cast<char>((length >> 8) & 0xFF);
    h += static_cast<char>(length & 0xFF);
  } else {
    h += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      h += static_cast<char>((static_cast<uint64_t>(length) >> shift) & 0xFF);
  }
}

decoded_frame decode_client_frame(std::string_view bytes, uint64_t max_bytes) {
  decoded_frame out;
  auto avail = bytes.size();
  if (avail < 2)
    return out;
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  out.fin = (p[0] & 0x80) != 0;
  out.op = p[0] & 0x0F;
  bool masked = (p[1] & 0x80) != 0;
  uint64_t len = p[1] & 0x7F;
  size_t header = 2;
  if (len == 126) {
    if (avail < 4)
      return out;
    len = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (avail < 10)
      return out;
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | p[2 + i];
    header = 10;
  }
  auto violate = [&](int code, const char* reason) {
    out.status = decoded_frame::violation;
    out.close_code = code;
    out.reason = reason;
    return out;
  };
  if (!masked)
    return violate(1002, "client frames must be masked");
  if (len > max_bytes)
    return violate(1009, "frame too large");
  if (out.op >= 0x8 && (len > 125 || !out.fin))
    return violate(1002, "bad control frame");
  if (avail < header + 4 + len)
    return out;
  std::array<unsigned char, 4> mask{p[header], p[header + 1], p[header + 2],
                                    p[header + 3]};
  out.payload.assign(bytes.data() + header + 4, static_cast<size_t>(len));
  for (size_t i = 0; i < out.payload.size(); ++i)
    out.payload[i] = static_cast<char>(out.payload[i] ^ mask[i % 4]);
  out.consumed = header + 4 + static_cast<size_t>(len);
  out.status = decoded_frame::frame;
  return out;
}

} // namespace kassa::ws
