// One dense layer's forward/backward pieces, each on a block of rows or of output units so the
// MLP can share them out between threads.  Signature order: outputs, inputs, sizes.
// Shapes: x (B, in), W (out, in) as torch, b (out,), z and a (B, out).
#pragma once
#include <cstdint>

#include "nn/activation.hpp"
#include "nn/blas.hpp"
#include "nn/dropout.hpp"

namespace fastopt::nn {

// Rows [r0, r1): z = x W^T  (B, in) x (out, in)^T -> (B, out); one GEMM on the block.
template <class T>
void dense_matmul_rows(T* z, const T* x, const T* w, int64_t in, int64_t out, int64_t r0, int64_t r1) {
  gemm(false, true, r1 - r0, out, in, T(1), x + r0 * in, in, w, in, T(0), z + r0 * out, out);
}

// Rows [r0, r1) of the output layer: z += b.
template <class T>
void bias_rows(T* z, const T* b, int64_t out, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict zr = z + r * out;
    const T* __restrict br = b;
#pragma omp simd
    for (int64_t j = 0; j < out; ++j) zr[j] += br[j];
  }
}

// Rows [r0, r1) of a hidden layer, one pass: z += b, a = f(z) * dropout scale (mask null: no dropout).
template <class T, class Act>
void bias_activation_rows(T* a, T* z, const T* b, const Act& act, const DropoutMask* mask, T keep_scale,
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
        ar[j] = mask->keep(base + j) ? act.value(v) * keep_scale : T(0);
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

// Rows [r0, r1): dx = dz W  (B, out) x (out, in) -> (B, in).
template <class T>
void dense_input_grad_rows(T* dx, const T* dz, const T* w, int64_t in, int64_t out, int64_t r0, int64_t r1) {
  gemm(false, false, r1 - r0, in, out, T(1), dz + r0 * out, out, w, in, T(0), dx + r0 * in, in);
}

// Rows [r0, r1), one pass: da (holding dL/da) becomes dL/dz = da * dropout scale * f'(z).
template <class T, class Act>
void activation_grad_rows(T* da, const T* z, const Act& act, const DropoutMask* mask, T keep_scale, int64_t width,
                          int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict dr = da + r * width;
    const T* __restrict zr = z + r * width;
    if (mask) {
      const uint64_t base = static_cast<uint64_t>(r * width);
#pragma omp simd
      for (int64_t j = 0; j < width; ++j)
        dr[j] = mask->keep(base + j) ? dr[j] * keep_scale * act.slope(zr[j]) : T(0);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < width; ++j) dr[j] *= act.slope(zr[j]);
    }
  }
}

// Output units [o0, o1): dW = dz^T x  (out, B) x (B, in) -> (out, in), and db = column sums of dz.
template <class T>
void dense_param_grad_units(T* dw, T* db, const T* dz, const T* x, int64_t batch, int64_t in, int64_t out,
                            int64_t o0, int64_t o1) {
  gemm(true, false, o1 - o0, in, batch, T(1), dz + o0, out, x, in, T(0), dw + o0 * in, in);
  T* __restrict dbo = db + o0;
  for (int64_t j = 0; j < o1 - o0; ++j) dbo[j] = T(0);
  for (int64_t r = 0; r < batch; ++r) {
    const T* __restrict dr = dz + r * out + o0;
#pragma omp simd
    for (int64_t j = 0; j < o1 - o0; ++j) dbo[j] += dr[j];
  }
}

}  // namespace fastopt::nn
