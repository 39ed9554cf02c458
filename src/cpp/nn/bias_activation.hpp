// The bias + activation stage (with the hidden layers' dropout factor fused in), one pass each way
// on a block of rows, and the bias gradient on a block of output units; and the R-operator twins
// of the hidden stage (inference mode: no dropout), with R{b} = Vb the bias part of the direction.
// Signature order: outputs, inputs, sizes.  Shapes: z, a, dz and their R{.} (B, out), b, Vb (out,).
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

// Output units [o0, o1): db (+)= column sums of dz   (B, out) -> (out,).  It is its own R-operator
// (R{db} = column sums of R{dz}).  accumulate: add into db, for sums over batches.
template <class T>
void bias_backward_units(T* db, const T* dz, int64_t batch, int64_t out, int64_t o0, int64_t o1,
                         bool accumulate = false) {
  T* __restrict dbo = db + o0;
  if (!accumulate)
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

// Rows [r0, r1) of a hidden layer: R{z} += Vb, R{a} = f'(z) R{z}   (B, out) + (out,) -> (B, out) twice.
// z: the forward's pre-activation (bias included).
template <class T, class Act>
void bias_activation_rforward_rows(T* ra, T* rz, const T* vb, const T* z, const Act& act, int64_t out, int64_t r0,
                                   int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict rzr = rz + r * out;
    T* __restrict rar = ra + r * out;
    const T* __restrict zr = z + r * out;
    const T* __restrict vbr = vb;
#pragma omp simd
    for (int64_t j = 0; j < out; ++j) {
      const T v = rzr[j] + vbr[j];
      rzr[j] = v;
      rar[j] = act.slope(zr[j]) * v;
    }
  }
}

// Rows [r0, r1), both in place: rda (holding R{dL/da}) becomes R{dz} = R{da} f'(z) + da f''(z) R{z},
// and da (holding dL/da) becomes dz = da f'(z)   4 x (B, out) -> 2 x (B, out).
template <class T, class Act>
void bias_activation_rbackward_rows(T* rda, T* da, const T* z, const T* rz, const Act& act, int64_t out, int64_t r0,
                                    int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict rdr = rda + r * out;
    T* __restrict dr = da + r * out;
    const T* __restrict zr = z + r * out;
    const T* __restrict rzr = rz + r * out;
#pragma omp simd
    for (int64_t j = 0; j < out; ++j) {
      const T slope = act.slope(zr[j]);
      rdr[j] = rdr[j] * slope + dr[j] * act.curvature(zr[j]) * rzr[j];
      dr[j] *= slope;
    }
  }
}

}  // namespace fastopt::nn
