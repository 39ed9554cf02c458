// The bias + activation stage (with the hidden layers' dropout factor fused in), one pass each way
// on a block of rows, and the bias gradient on a block of output units.
// Signature order: outputs, inputs, sizes.  Shapes: z, a, dz (B, out), b (out,).
#pragma once
#include <cstdint>

#include "nn/dropout.hpp"

namespace fastopt::nn {

// Rows [r0, r1) of the output layer: z += b   (B, out) + (out,) -> (B, out).
template <class T>
void bias_forward_rows(T* z, const T* b, int64_t out, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict zr = z + r * out;
    const T* __restrict br = b;
#pragma omp simd
    for (int64_t j = 0; j < out; ++j) zr[j] += br[j];
  }
}

// Output units [o0, o1): db = column sums of dz   (B, out) -> (out,).
template <class T>
void bias_backward_units(T* db, const T* dz, int64_t batch, int64_t out, int64_t o0, int64_t o1) {
  T* __restrict dbo = db + o0;
  for (int64_t j = 0; j < o1 - o0; ++j) dbo[j] = T(0);
  for (int64_t r = 0; r < batch; ++r) {
    const T* __restrict dr = dz + r * out + o0;
#pragma omp simd
    for (int64_t j = 0; j < o1 - o0; ++j) dbo[j] += dr[j];
  }
}

// Rows [r0, r1) of a hidden layer: z += b, a = m * f(z)   (B, out) + (out,) -> (B, out) twice.
// mask null: no dropout (m = 1).
template <class T, class Act>
void bias_activation_forward_rows(T* a, T* z, const T* b, const Act& act, const DropoutMask* mask, T keep_scale,
                                  int64_t out, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict zr = z + r * out;
    const T* __restrict br = b;
    T* __restrict ar = a + r * out;
    if (mask) {
      const uint64_t base = static_cast<uint64_t>(r * out);
#pragma omp simd
      for (int64_t j = 0; j < out; ++j) {
        const T v = zr[j] + br[j];
        zr[j] = v;
        ar[j] = act.value(v) * mask->factor(base + j, keep_scale);
      }
    } else {
#pragma omp simd
      for (int64_t j = 0; j < out; ++j) {
        const T v = zr[j] + br[j];
        zr[j] = v;
        ar[j] = act.value(v);
      }
    }
  }
}

// Rows [r0, r1): da (holding dL/da) becomes dz = da * m * f'(z)   (B, out) -> (B, out), in place.
template <class T, class Act>
void bias_activation_backward_rows(T* da, const T* z, const Act& act, const DropoutMask* mask, T keep_scale,
                                   int64_t out, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict dr = da + r * out;
    const T* __restrict zr = z + r * out;
    if (mask) {
      const uint64_t base = static_cast<uint64_t>(r * out);
#pragma omp simd
      for (int64_t j = 0; j < out; ++j) dr[j] = dr[j] * mask->factor(base + j, keep_scale) * act.slope(zr[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < out; ++j) dr[j] *= act.slope(zr[j]);
    }
  }
}

}  // namespace fastopt::nn
