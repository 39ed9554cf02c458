// The random bits of stochastic rounding: a counter-based hash of (seed, step, tensor, stream, element), so
// a value's rounding depends on nothing else: not the thread count, the chunking, nor what ran before.
// A run resumed from a state_dict (which holds the seed and the step) rounds exactly as the uninterrupted one.
#pragma once
#include <cstdint>

namespace fastopt {

// splitmix64's finaliser (Steele, Lea & Flood, 2014): a bijection whose output bits each depend on every input bit.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Chris Wellons' lowbias32: a 32-bit bijection of low bias, cheap enough to run per element and vectorised.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

// The key of one run of elements: everything but the element's index within 2^32 (which hash32 adds).
// stream tells apart the arrays of one tensor (0: the param, 1 + k: state slot k).
inline uint32_t rounding_key(uint64_t seed, int64_t step, int64_t tensor, int stream, int64_t index) {
  const uint64_t where = mix64(static_cast<uint64_t>(tensor) * 8 + static_cast<uint64_t>(stream)) ^
                         mix64(static_cast<uint64_t>(index) >> 32);
  return static_cast<uint32_t>(mix64(seed ^ mix64(static_cast<uint64_t>(step) ^ where)));
}

// 16 uniform random bits for element `index` of the run keyed `key`.
inline uint32_t rounding_bits(uint32_t key, int64_t index) {
  return hash32(static_cast<uint32_t>(index) ^ key) >> 16;
}

}  // namespace fastopt
