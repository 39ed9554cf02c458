// IEEE binary16 (numpy.float16) <-> float32, one value at a time in branch-light integer and float
// arithmetic that compilers vectorise (the F16C instructions need a target flag the default build lacks).
// Narrowing rounds to nearest, ties to even, as numpy's astype(np.float16) does; overflow goes to infinity.
#pragma once
#include <cstdint>

#include "common/bfloat16.hpp"  // float_bits, float_from_bits

namespace fastopt {

inline float f16_to_float(uint16_t h) {
  const uint32_t magnitude = h & 0x7FFFu, sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  // Shifted into a float32's place the exponent keeps binary16's bias (15): 2^112 re-biases it, and the
  // same product turns a binary16 subnormal (a float32 subnormal once shifted) into its exact value.
  const float finite = float_from_bits(magnitude << 13) * 0x1p112f;
  const uint32_t bits = magnitude >= 0x7C00u ? (magnitude << 13) | 0x7F800000u : float_bits(finite);
  return float_from_bits(bits | sign);
}

inline uint16_t float_to_f16(float x) {
  const uint32_t u = float_bits(x), sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;
  uint32_t out;
  if (a >= 0x47800000u) {  // >= 65536 (rounds to infinity), infinity or NaN
    out = a > 0x7F800000u ? 0x7E00u : 0x7C00u;
  } else if (a < 0x38800000u) {  // below binary16's smallest normal (2^-14): the float adder rounds for us
    const float magic = float_from_bits(0x3F000000u);  // 0.5: aligns 2^-24 with the float's last mantissa bit
    out = float_bits(float_from_bits(a) + magic) - 0x3F000000u;
  } else {  // normal: re-bias, then round the 13 dropped bits to nearest even
    out = (a + 0xC8000FFFu + ((a >> 13) & 1u)) >> 13;
  }
  return static_cast<uint16_t>(out | sign);
}

}  // namespace fastopt
