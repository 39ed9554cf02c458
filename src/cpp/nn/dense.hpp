// The dense stage, z = x W^T, as GEMMs on a block of rows (forward, input gradient) or of output
// units (weight gradient), so the MLP can share the work out between threads; and its R-operator
// twins (Pearlmutter 1994: R{.} = d/dr (.)(W + r V) at r = 0, V the direction in parameter space).
// Signature order: outputs, inputs, sizes.  Shapes: x (B, in), W and V (out, in) as torch, z (B, out).
// accumulate: add into the output (beta = 1) instead of overwriting it, for sums over batches.
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

// Output units [o0, o1): dW (+)= dz^T x   (out, B) x (B, in) -> (out, in).
template <class T>
void dense_backward_weight_units(T* dw, const T* dz, const T* x, int64_t batch, int64_t in, int64_t out, int64_t o0,
                                 int64_t o1, bool accumulate = false) {
  gemm(true, false, o1 - o0, in, batch, T(1), dz + o0, out, x, in, accumulate ? T(1) : T(0), dw + o0 * in, in);
}

// Rows [r0, r1): R{z} = x V^T + R{x} W^T   2 x (B, in) x (out, in)^T -> (B, out).
// rx null: x is the data, R{x} = 0.
template <class T>
void dense_rforward_rows(T* rz, const T* x, const T* rx, const T* w, const T* v, int64_t in, int64_t out, int64_t r0,
                         int64_t r1) {
  gemm(false, true, r1 - r0, out, in, T(1), x + r0 * in, in, v, in, T(0), rz + r0 * out, out);
  if (rx) gemm(false, true, r1 - r0, out, in, T(1), rx + r0 * in, in, w, in, T(1), rz + r0 * out, out);
}

// Rows [r0, r1): R{dx} = R{dz} W + dz V   2 x (B, out) x (out, in) -> (B, in).
template <class T>
void dense_rbackward_input_rows(T* rdx, const T* rdz, const T* dz, const T* w, const T* v, int64_t in, int64_t out,
                                int64_t r0, int64_t r1) {
  gemm(false, false, r1 - r0, in, out, T(1), rdz + r0 * out, out, w, in, T(0), rdx + r0 * in, in);
  gemm(false, false, r1 - r0, in, out, T(1), dz + r0 * out, out, v, in, T(1), rdx + r0 * in, in);
}

// Output units [o0, o1): R{dW} (+)= R{dz}^T x + dz^T R{x}   2 x (out, B) x (B, in) -> (out, in).
// rx null: x is the data, R{x} = 0.
template <class T>
void dense_rbackward_weight_units(T* rdw, const T* rdz, const T* dz, const T* x, const T* rx, int64_t batch, int64_t in,
                                  int64_t out, int64_t o0, int64_t o1, bool accumulate) {
  gemm(true, false, o1 - o0, in, batch, T(1), rdz + o0, out, x, in, accumulate ? T(1) : T(0), rdw + o0 * in, in);
  if (rx) gemm(true, false, o1 - o0, in, batch, T(1), dz + o0, out, rx, in, T(1), rdw + o0 * in, in);
}

}  // namespace fastopt::nn
