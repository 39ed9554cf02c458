// The dense stage, z = x W^T, as GEMMs on a block of rows (forward, input gradient) or of output
// units (weight gradient), so the MLP can share the work out between threads.
// Signature order: outputs, inputs, sizes.  Shapes: x (B, in), W (out, in) as torch, z (B, out).
#pragma once
#include <cstdint>

#include "nn/blas.hpp"

namespace fastopt::nn {

// Rows [r0, r1): z = x W^T   (B, in) x (out, in)^T -> (B, out).
template <class T>
void dense_forward_rows(T* z, const T* x, const T* w, int64_t in, int64_t out, int64_t r0, int64_t r1) {
  gemm(false, true, r1 - r0, out, in, T(1), x + r0 * in, in, w, in, T(0), z + r0 * out, out);
}

// Rows [r0, r1): dx = dz W   (B, out) x (out, in) -> (B, in).
template <class T>
void dense_backward_input_rows(T* dx, const T* dz, const T* w, int64_t in, int64_t out, int64_t r0, int64_t r1) {
  gemm(false, false, r1 - r0, in, out, T(1), dz + r0 * out, out, w, in, T(0), dx + r0 * in, in);
}

// Output units [o0, o1): dW = dz^T x   (out, B) x (B, in) -> (out, in).
template <class T>
void dense_backward_weight_units(T* dw, const T* dz, const T* x, int64_t batch, int64_t in, int64_t out, int64_t o0,
                                 int64_t o1) {
  gemm(true, false, o1 - o0, in, batch, T(1), dz + o0, out, x, in, T(0), dw + o0 * in, in);
}

}  // namespace fastopt::nn
