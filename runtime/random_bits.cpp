#include "runtime/random_bits.hpp"

#include <openssl/rand.h>

namespace kassa {

random_bits::random_bits() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed)) != 1)
    seed = std::random_device{}();
  engine_.seed(seed);
}

} // namespace kassa
