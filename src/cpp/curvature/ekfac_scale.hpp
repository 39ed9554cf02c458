// EKFAC's rescaled diagonal (George et al. 2018, "Fast Approximate Natural Gradient Descent in a
// Kronecker-factored Eigenbasis"): the running average of the per-example squared gradients in the
// K-FAC eigenbasis.  A dense layer's per-example gradient is g_i a_i^T, so its projection is
// Q_G^T g_i a_i^T Q_A = (Q_G^T g_i)(Q_A^T a_i)^T and its elementwise square the outer product of
// squares; summed over the rows, with P_g = g Q_G (B, out) and P_a = a Q_A (B, in + 1):
//   S <- decay S + (1 - decay) (1/B) (P_g o P_g)^T (P_a o P_a)       (out x (in + 1))
// three GEMMs per layer and no per-example matrix.  decay = 0 sets S to the batch's.
#pragma once
#include <cstdint>
#include <vector>

#include "curvature/layer_tasks.hpp"
#include "nn/blas.hpp"
#include "nn/layer_capture.hpp"
#include "nn/layout.hpp"

namespace fastopt::curvature {

template <class T>
void update_eigen_scale(const std::vector<nn::Layer>& layers, const nn::LayerCapture<T>& capture,
                        const std::vector<const T*>& qa, const std::vector<const T*>& qg, const std::vector<T*>& scale,
                        double decay) {
  const int64_t count = static_cast<int64_t>(layers.size()), batch = capture.batch;
  std::vector<std::vector<T>> pa(count), pg(count);
  std::vector<double> flops;
  for (int64_t l = 0; l < count; ++l) {  // allocated here: nothing may throw inside the region
    const double cols = static_cast<double>(layers[l].in + 1), rows = static_cast<double>(layers[l].out);
    flops.push_back(2.0 * batch * (cols * cols + rows * rows + rows * cols));
    pa[l].resize(batch * (layers[l].in + 1));
    pg[l].resize(batch * layers[l].out);
  }
  run_layer_tasks(flops, [&](int64_t l) {
    const int64_t rows = layers[l].out, cols = layers[l].in + 1;
    T* a = pa[l].data();
    T* g = pg[l].data();
    nn::gemm(false, false, batch, cols, cols, T(1), capture.a[l].data(), cols, qa[l], cols, T(0), a, cols);
    nn::gemm(false, false, batch, rows, rows, T(1), capture.g[l].data(), rows, qg[l], rows, T(0), g, rows);
    for (int64_t i = 0; i < batch * cols; ++i) a[i] *= a[i];
    for (int64_t i = 0; i < batch * rows; ++i) g[i] *= g[i];
    nn::gemm(true, false, rows, cols, batch, static_cast<T>((1.0 - decay) / static_cast<double>(batch)), g, rows, a,
             cols, static_cast<T>(decay), scale[l], cols);
  });
}

}  // namespace fastopt::curvature
