// Block-wise 8-bit dynamic quantisation of optimizer state (Dettmers et al., 2022, "8-bit Optimizers via
// Block-wise Quantization"; the map of bitsandbytes' create_dynamic_map and torchao's low-bit optimizers).
//
// Each block of kQuantBlock values keeps one float32 absmax and one byte per value: the index of the
// nearest entry of a sorted 256-entry map of [-1, 1] (signed, for values of either sign such as a first
// moment) or [0, 1] (unsigned, for non-negative ones such as a second moment).  The dynamic map spends
// its codes on 7 decades: decade d (d = 0..6) covers [0.1, 1] * 10^(d-6) with 2^d (signed) or 2^(d+1)
// (unsigned) evenly spaced midpoints, plus 0 and 1; so small values keep their relative precision.
// Dequantising is value = map[code] * absmax; the error of one value is at most half the gap between its
// two neighbouring map entries, times absmax.
//
// A block holding NaN or +-Inf gets absmax NaN, so every value of that block reads back as NaN: the
// damage is visible and stays in the block (each block has its own absmax), as a non-finite float32
// state element stays in its element.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <limits>
#include <stdexcept>
#include <vector>

#include "common/bfloat16.hpp"  // float_bits, float_from_bits

namespace fastopt {

constexpr int64_t kQuantBlock = 256;

inline int64_t quant_blocks(int64_t n) { return (n + kQuantBlock - 1) / kQuantBlock; }

struct DynamicMap {
  float value[256];  // sorted ascending
  // Per bfloat16 bucket b (a float's top 16 bits): bits 16-23 hold the code nearest the bucket's lowest
  // value, bits 0-15 the low half of the one midpoint between two codes that falls inside the bucket (at
  // most one does: checked when built), past which the next code is nearer.  One int32 gather per value,
  // which AVX-512 and AVX2 vectorise.
  int32_t bucket[1 << 16];

  explicit DynamicMap(bool is_signed) {
    std::vector<double> v;
    for (int d = 0; d < 7; ++d) {
      const int count = is_signed ? 1 << d : 2 << d;
      for (int k = 0; k < count; ++k) {
        const double mid = 0.1 + 0.9 * (k + 0.5) / count;  // midpoints of count equal steps of [0.1, 1]
        v.push_back(std::pow(10.0, d - 6) * mid);
        if (is_signed) v.push_back(-std::pow(10.0, d - 6) * mid);
      }
    }
    v.push_back(0.0);
    v.push_back(1.0);
    std::sort(v.begin(), v.end());
    float upper_mid[256];  // between value[c] and value[c + 1]
    for (int c = 0; c < 256; ++c) value[c] = static_cast<float>(v[c]);
    for (int c = 0; c < 255; ++c) upper_mid[c] = 0.5f * (value[c] + value[c + 1]);
    upper_mid[255] = std::numeric_limits<float>::infinity();
    for (uint32_t b = 0; b < (1u << 16); ++b) {
      const bool negative = b & 0x8000u;
      // The bucket's lowest value: its own bits for a positive bucket, all low bits set for a negative one.
      const float lowest = float_from_bits((b << 16) | (negative ? 0xFFFFu : 0u));
      const int code = static_cast<int>(std::lower_bound(upper_mid, upper_mid + 255, lowest) - upper_mid);
      // No midpoint inside: a threshold no low half passes (above 0xFFFF going up, below 0 going down).
      uint32_t threshold = negative ? 0u : 0xFFFFu;
      if (code < 255 && (float_bits(upper_mid[code]) >> 16) == b) {
        threshold = float_bits(upper_mid[code]) & 0xFFFFu;
        if (code < 254 && (float_bits(upper_mid[code + 1]) >> 16) == b) throw std::logic_error("two midpoints in a bucket");
      }
      bucket[b] = static_cast<int32_t>((static_cast<uint32_t>(code) << 16) | threshold);
    }
  }

  // The code of x (in [-1, 1]; an unsigned map takes negatives to 0).  Within a bucket the low 16 bits
  // order the values (upward for positive x, downward for negative x).
  uint8_t encode(float x) const {
    const uint32_t u = float_bits(x), low = u & 0xFFFFu;
    const uint32_t entry = static_cast<uint32_t>(bucket[u >> 16]), threshold = entry & 0xFFFFu;
    const uint32_t past = (u >> 31) ? (low < threshold) : (low > threshold);
    return static_cast<uint8_t>((entry >> 16) + past);
  }
};

inline const DynamicMap& dynamic_map(bool is_signed) {
  static const DynamicMap signed_map(true), unsigned_map(false);
  return is_signed ? signed_map : unsigned_map;
}

// out[i] = map[codes[i]] * absmax over one block.
inline void dequantize_block(const DynamicMap& map, const uint8_t* __restrict codes, float absmax,
                             float* __restrict out, int64_t len) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) out[i] = map.value[codes[i]] * absmax;
}

// Codes and absmax of one block of `in` (see the top of the file for non-finite values).
inline void quantize_block(const DynamicMap& map, const float* __restrict in, uint8_t* __restrict codes,
                           float* absmax, int64_t len) {
  float top = 0.0f, probe = 0.0f;  // probe: 0 * x summed, which is NaN exactly when some x is NaN or Inf
#pragma omp simd reduction(max : top) reduction(+ : probe)
  for (int64_t i = 0; i < len; ++i) {
    const float a = std::fabs(in[i]);
    top = a > top ? a : top;
    probe += 0.0f * a;
  }
  if (probe != 0.0f) top = std::numeric_limits<float>::quiet_NaN();
  *absmax = top;
  const float scale = top > 0.0f ? 1.0f / top : 0.0f;  // NaN absmax: scale 0, every code that of 0
  int64_t i = 0;
#if defined(__AVX512F__)
  // encode() on 16 values at once with one explicit gather: compilers tuned for CPUs with slow gathers
  // (GCC's znver tuning) otherwise emulate it with 16 scalar loads.
  const __m512i low_mask = _mm512_set1_epi32(0xFFFF);
  for (; i + 16 <= len; i += 16) {
    const __m512i u = _mm512_castps_si512(_mm512_mul_ps(_mm512_loadu_ps(in + i), _mm512_set1_ps(scale)));
    const __m512i entry = _mm512_i32gather_epi32(_mm512_srli_epi32(u, 16), map.bucket, 4);
    const __m512i low = _mm512_and_si512(u, low_mask), threshold = _mm512_and_si512(entry, low_mask);
    const __mmask16 negative = _mm512_cmplt_epi32_mask(u, _mm512_setzero_si512());
    const __mmask16 past = (negative & _mm512_cmplt_epu32_mask(low, threshold)) |
                           (~negative & _mm512_cmpgt_epu32_mask(low, threshold));
    const __m512i code = _mm512_mask_add_epi32(_mm512_srli_epi32(entry, 16), past, _mm512_srli_epi32(entry, 16),
                                               _mm512_set1_epi32(1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(code));
  }
#endif
  for (; i < len; ++i) codes[i] = map.encode(in[i] * scale);
}

}  // namespace fastopt
