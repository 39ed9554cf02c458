// K-FAC's preconditioning of each dense layer's gradient, weight and bias together as one matrix
// M = [dW, db] (out x (in + 1)), written to `out` in the gradient layout:
//   eigen    V = Q_G [ (Q_G^T M Q_A) / (S + damping) ] Q_A^T          (4 GEMMs, elementwise divide)
//            S_ij = (d_G,i + shift_g)(d_A,j + shift_a)   K-FAC: the Kronecker eigenvalues; shifts 0
//                                                        for Tikhonov damping, pi sqrt(d) and sqrt(d)/pi
//                                                        (damping 0) for the factored damping
//            S_ij = scale_ij                             EKFAC: the rescaled diagonal (George et al. 2018)
//            = (A (x) G + damping I)^-1 vec(M) for K-FAC with Tikhonov damping.
//   inverse  V = G_inv M A_inv, the damped inverses of kfac_decompose.hpp   (2 GEMMs)
// One task per layer (run_layer_tasks), each with its own two scratch matrices.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "curvature/layer_tasks.hpp"
#include "nn/blas.hpp"
#include "nn/layout.hpp"

namespace fastopt::curvature {

// Layer l's basis and eigenvalues (eigen) or damped inverses (inverse: qa = A_inv, qg = G_inv).
template <class T>
struct LayerPreconditioner {
  const T* qa;     // (in + 1, in + 1)
  const T* qg;     // (out, out)
  const T* da;     // (in + 1,) or null (EKFAC, inverse)
  const T* dg;     // (out,) or null
  const T* scale;  // (out, in + 1): EKFAC's diagonal, or null
  double shift_a = 0.0, shift_g = 0.0;
};

// m (out, in + 1) <- [dW, db] from the gradient layout, or back with to_layout.
template <class T>
void gather_layer(T* m, const T* flat, const nn::Layer& L) {
  for (int64_t i = 0; i < L.out; ++i) {
    std::copy(flat + L.weight + i * L.in, flat + L.weight + (i + 1) * L.in, m + i * (L.in + 1));
    m[i * (L.in + 1) + L.in] = flat[L.bias + i];
  }
}

template <class T>
void scatter_layer(T* flat, const T* m, const nn::Layer& L) {
  for (int64_t i = 0; i < L.out; ++i) {
    std::copy(m + i * (L.in + 1), m + i * (L.in + 1) + L.in, flat + L.weight + i * L.in);
    flat[L.bias + i] = m[i * (L.in + 1) + L.in];
  }
}

// out (P,) <- the preconditioned gradient of grads (P,); eigen: as above, else the inverse path.
template <class T>
void precondition_layers(const std::vector<nn::Layer>& layers, const std::vector<LayerPreconditioner<T>>& pre,
                         bool eigen, double damping, const T* grads, T* out) {
  const int64_t count = static_cast<int64_t>(layers.size());
  std::vector<std::vector<T>> m(count), work(count);
  std::vector<double> flops;
  for (const nn::Layer& L : layers) {
    const double cols = static_cast<double>(L.in + 1), rows = static_cast<double>(L.out);
    flops.push_back((eigen ? 4.0 : 2.0) * rows * cols * (rows + cols));
  }
  for (int64_t l = 0; l < count; ++l) {  // allocated here: nothing may throw inside the region
    m[l].resize(layers[l].out * (layers[l].in + 1));
    work[l].resize(m[l].size());
  }
  run_layer_tasks(flops, [&](int64_t l) {
    const nn::Layer& L = layers[l];
    const LayerPreconditioner<T>& p = pre[l];
    const int64_t rows = L.out, cols = L.in + 1;
    T* a = m[l].data();
    T* b = work[l].data();
    gather_layer(a, grads, L);
    if (!eigen) {
      nn::gemm(false, false, rows, cols, rows, T(1), p.qg, rows, a, cols, T(0), b, cols);
      nn::gemm(false, false, rows, cols, cols, T(1), b, cols, p.qa, cols, T(0), a, cols);
      scatter_layer(out, a, L);
      return;
    }
    nn::gemm(true, false, rows, cols, rows, T(1), p.qg, rows, a, cols, T(0), b, cols);   // Q_G^T M
    nn::gemm(false, false, rows, cols, cols, T(1), b, cols, p.qa, cols, T(0), a, cols);  // (.) Q_A
    for (int64_t i = 0; i < rows; ++i) {
      const double dg = p.scale ? 0.0 : static_cast<double>(p.dg[i]) + p.shift_g;
      for (int64_t j = 0; j < cols; ++j) {
        const double s = p.scale ? static_cast<double>(p.scale[i * cols + j])
                                 : dg * (static_cast<double>(p.da[j]) + p.shift_a);
        a[i * cols + j] = static_cast<T>(static_cast<double>(a[i * cols + j]) / (s + damping));
      }
    }
    nn::gemm(false, false, rows, cols, rows, T(1), p.qg, rows, a, cols, T(0), b, cols);  // Q_G (.)
    nn::gemm(false, true, rows, cols, cols, T(1), b, cols, p.qa, cols, T(0), a, cols);   // (.) Q_A^T
    scatter_layer(out, a, L);
  });
}

}  // namespace fastopt::curvature
