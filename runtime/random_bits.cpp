#include "runtime/random_bits.hpp"

#include <openssl/rand.h>
#include <random>

namespace kassa {

random_bits::random_bits() {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(s_), sizeof(s_)) != 1) {
    std::random_device device;
    for (auto& word : s_)
      word = (uint64_t{device()} << 32) ^ device();
  }
  // All zero is xoshiro's one fixed point.
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0)
    s_[0] = 0x9E3779B97F4A7C15ull;
}

} // namespace kassa
