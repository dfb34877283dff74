#include <catch2/catch.hpp>

#include "adapters/ws/ws_frames.hpp"

using namespace kassa::ws;

namespace {

/// A masked client frame, as a browser would send it.
std::string client_frame(uint8_t first_byte, const std::string& payload,
                         bool masked = true) {
  std::string f;
  f += static_cast<char>(first_byte);
  auto n = payload.size();
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (n < 126) {
    f += static_cast<char>(mask_bit | n);
  } else {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>((n >> 8) & 0xFF);
    f += static_cast<char>(n & 0xFF);
  }
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (masked)
    f.append(key, 4);
  for (size_t i = 0; i < n; ++i)
    f += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
  return f;
}

} // namespace

TEST_CASE("the handshake key and server frame headers follow RFC 6455",
          "[ws_frames]") {
  CHECK(accept_key("dGhlIHNhbXBsZSBub25jZQ==")
        == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(frame_header(op_text, 5) == std::string("\x81\x05", 2));
  CHECK(frame_header(op_text, 300) == std::string("\x81\x7e\x01\x2c", 4));
  auto big = frame_header(op_text, 70000);
  REQUIRE(big.size() == 10);
  CHECK(static_cast<unsigned char>(big[1]) == 127);
  CHECK(static_cast<unsigned char>(big[7]) == 0x01); // 70000 = 0x011170
  CHECK(static_cast<unsigned char>(big[8]) == 0x11);
  CHECK(static_cast<unsigned char>(big[9]) == 0x70);
}

TEST_CASE("client frames decode, wait for more bytes, or are refused",
          "[ws_frames]") {
  auto hello = client_frame(0x81, R"({"op":"ping"})");
  auto f = decode_client_frame(hello + "trailing", 1024);
  REQUIRE(f.status == decoded_frame::frame);
  CHECK(f.fin);
  CHECK(f.op == op_text);
  CHECK(f.payload == R"({"op":"ping"})");
  CHECK(f.consumed == hello.size());
  for (size_t cut = 0; cut < hello.size(); ++cut)
    CHECK(decode_client_frame(hello.substr(0, cut), 1024).status
          == decoded_frame::incomplete);
  std::string long_text(300, 'x');
  f = decode_client_frame(client_frame(0x01, long_text), 1024);
  REQUIRE(f.status == decoded_frame::frame);
  CHECK_FALSE(f.fin); // a first fragment
  CHECK(f.payload == long_text);
  f = decode_client_frame(client_frame(0x81, "hi", false), 1024);
  CHECK(f.status == decoded_frame::violation);
  CHECK(f.close_code == 1002);
  f = decode_client_frame(client_frame(0x81, long_text), 100);
  CHECK(f.status == decoded_frame::violation);
  CHECK(f.close_code == 1009);
  f = decode_client_frame(client_frame(0x09, "ping"), 1024); // not final
  CHECK(f.status == decoded_frame::violation);
  CHECK(f.close_code == 1002);
}
