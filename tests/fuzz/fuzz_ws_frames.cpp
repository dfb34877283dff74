// libFuzzer target: bytes from a WebSocket client — frame decoding (masks,
// lengths, control frames) and every text frame's command decoding, with
// and without full access.

#include <string>
#include <string_view>

#include "adapters/ws/ws_commands.hpp"
#include "adapters/ws/ws_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kassa::ws;
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  // The whole input as one text command too (the frames' payloads rarely
  // reach it whole).
  (void)parse_client_command(std::string{bytes}, size % 2 == 0, "c1");
  while (!bytes.empty()) {
    auto f = decode_client_frame(bytes, 4096);
    if (f.status != decoded_frame::frame || f.consumed == 0)
      break;
    if (f.op == 1)
      (void)parse_client_command(f.payload, f.fin, "c1");
    bytes.remove_prefix(f.consumed);
  }
  return 0;
}
