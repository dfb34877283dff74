#pragma once

#include <cstdint>

namespace kassa {

/// Random bits for ids (order ids, ledger refs), seeded once from OpenSSL's
/// RAND_bytes (256 bits) and then drawn from xoshiro256**: one RAND_bytes
/// call per batch where one per id was measured at 1–2.4 % of the node's
/// samples in the saga benchmark, and a generator that costs nothing to
/// seed (a Mersenne twister's 312-word seeding was 1.4 % of a saga's
/// instructions, one per intake batch). The ids need to be unique and not
/// guessable across batches, not secret: they are not credentials.
class random_bits {
public:
  random_bits();

  uint64_t next() {
    // xoshiro256** (Blackman and Vigna, public domain reference code).
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

private:
  static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }

  uint64_t s_[4];
};

} // namespace kassa
