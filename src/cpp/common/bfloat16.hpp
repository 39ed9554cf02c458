// bfloat16 <-> float32: one value, and whole runs of them (vectorised).
//
// A bfloat16 is the top half of a float32 (sign, 8 exponent bits, 7 mantissa bits), kept as its uint16
// bit pattern (NumPy arrays of ml_dtypes.bfloat16 hold exactly these bits).  Widening is a shift, exact.
// Narrowing rounds either to nearest, ties to even (RNE: the IEEE default, what ml_dtypes and torch do),
// or stochastically: up with probability (dropped bits) / 2^16, so the expected value is the float32 one
// (a run of updates too small for RNE to register still moves the value on average).
//
// The runs use AVX-512 BF16's vcvtneps2bf16 when the compiler targets it (FASTOPT_NATIVE on such a CPU;
// never by default), else the portable shift-and-round below, which compilers vectorise.  The instruction
// treats float32 subnormal inputs as zero; the portable path rounds them like any other value.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__AVX512BF16__) && defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#define FASTOPT_BF16_AVX512 1
#else
#define FASTOPT_BF16_AVX512 0
#endif

namespace fastopt {

inline uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline float float_from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

inline float bf16_to_float(uint16_t h) { return float_from_bits(static_cast<uint32_t>(h) << 16); }

// Adds `bias` (0..0xFFFF) to the dropped half before truncating: 0x7FFF plus the kept half's lowest bit is
// RNE; a uniform random 16 bits is stochastic rounding.  A NaN stays a (quiet) NaN rather than carrying into
// the exponent or rounding to infinity.
inline uint16_t float_to_bf16_biased(float x, uint32_t bias) {
  const uint32_t u = float_bits(x);
  const bool nan = (u & 0x7FFFFFFFu) > 0x7F800000u;
  return nan ? static_cast<uint16_t>((u >> 16) | 0x0040u) : static_cast<uint16_t>((u + bias) >> 16);
}

inline uint16_t float_to_bf16(float x) { return float_to_bf16_biased(x, 0x7FFFu + ((float_bits(x) >> 16) & 1u)); }

// Which narrowing the runs use in this build: "avx512bf16" or "portable" (fastopt.build_info()).
inline const char* bf16_conversion_path() { return FASTOPT_BF16_AVX512 ? "avx512bf16" : "portable"; }

inline void bf16_to_float_n(const uint16_t* __restrict in, float* __restrict out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_float(in[i]);
}

// RNE over a run, portable path (always built, so the tests check it whatever the build targets).
inline void float_to_bf16_n_portable(const float* __restrict in, uint16_t* __restrict out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(in[i]);
}

// RNE over a run, through the instruction where the build has it.
inline void float_to_bf16_n(const float* __restrict in, uint16_t* __restrict out, int64_t n) {
#if FASTOPT_BF16_AVX512
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh packed = _mm512_cvtneps_pbh(_mm512_loadu_ps(in + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), reinterpret_cast<const __m256i&>(packed));
  }
  float_to_bf16_n_portable(in + i, out + i, n - i);
#else
  float_to_bf16_n_portable(in, out, n);
#endif
}

}  // namespace fastopt
