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
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/bfloat16.hpp"  // float_bits, float_from_bits

namespace fastopt {

constexpr int64_t kQuantBlock = 256;

inline int64_t quant_blocks(int64_t n) { return (n + kQuantBlock - 1) / kQuantBlock; }

struct DynamicMap {
  float value[256];      // sorted ascending
  float upper_mid[256];  // midpoint between value[c] and value[c + 1] (infinity for the last)
  // For each bfloat16 bucket (a float's top 16 bits), the code nearest the bucket's lowest value.  Every
  // bucket holds at most one midpoint (checked when built), so one compare finishes the search.
  uint8_t bucket_code[1 << 16];

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
    for (int c = 0; c < 256; ++c) value[c] = static_cast<float>(v[c]);
    for (int c = 0; c < 255; ++c) upper_mid[c] = 0.5f * (value[c] + value[c + 1]);
    upper_mid[255] = std::numeric_limits<float>::infinity();
    for (uint32_t b = 0; b < (1u << 16); ++b) {
      // The bucket's lowest value: its own bits for a positive bucket, all low bits set for a negative one.
      const float lowest = float_from_bits((b << 16) | ((b & 0x8000u) ? 0xFFFFu : 0u));
      bucket_code[b] = static_cast<uint8_t>(std::lower_bound(upper_mid, upper_mid + 255, lowest) - upper_mid);
    }
  }

  // The code of x (in [-1, 1]; an unsigned map takes negatives to 0).
  uint8_t encode(float x) const {
    const uint8_t c = bucket_code[float_bits(x) >> 16];
    return static_cast<uint8_t>(c + (x > upper_mid[c] ? 1 : 0));
  }
};

inline const DynamicMap& dynamic_map(bool is_signed) {
  static const DynamicMap signed_map(true), unsigned_map(false);
  return is_signed ? signed_map : unsigned_map;
}

// out[i] = map[codes[i]] * absmax over one block.
inline void dequantize_block(const DynamicMap& map, const uint8_t* __restrict codes, float absmax,
                             float* __restrict out, int64_t len) {
  for (int64_t i = 0; i < len; ++i) out[i] = map.value[codes[i]] * absmax;
}

// Codes and absmax of one block of `in` (see the top of the file for non-finite values).
inline void quantize_block(const DynamicMap& map, const float* __restrict in, uint8_t* __restrict codes,
                           float* absmax, int64_t len) {
  float top = 0.0f;
  bool finite = true;
#pragma omp simd reduction(max : top) reduction(&& : finite)
  for (int64_t i = 0; i < len; ++i) {
    const float a = std::fabs(in[i]);
    top = std::max(top, a);
    finite = finite && a <= FLT_MAX;  // false for NaN and Inf
  }
  if (!finite) top = std::numeric_limits<float>::quiet_NaN();
  *absmax = top;
  const float scale = top > 0.0f ? 1.0f / top : 0.0f;  // NaN absmax: scale 0, every code that of 0
  for (int64_t i = 0; i < len; ++i) codes[i] = map.encode(in[i] * scale);
}

}  // namespace fastopt
