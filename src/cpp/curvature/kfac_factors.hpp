// K-FAC's Kronecker factors of the dense layers (Martens & Grosse 2015), from a LayerCapture
// (nn/layer_capture.hpp) of B rows with homogeneous inputs a_i (in + 1,) and per-example output
// gradients g_i (out,):
//   A <- decay A + (1 - decay) (1/B) sum_i a_i a_i^T     ((in + 1) x (in + 1))
//   G <- decay G + (1 - decay) (1/B) sum_i g_i g_i^T     (out x out)
// each one SYRK (beta = decay, so no batch matrix is formed), then its lower triangle mirrored
// from the upper.  decay = 0 sets the factors to the batch's (the first update).
#pragma once
#include <cstdint>
#include <vector>

#include "curvature/lapack.hpp"
#include "curvature/layer_tasks.hpp"
#include "nn/layer_capture.hpp"
#include "nn/layout.hpp"

namespace fastopt::curvature {

// Copy the upper triangle of the row-major (n, n) c into its lower triangle.
template <class T>
void mirror_upper(T* c, int64_t n) {
  for (int64_t i = 1; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) c[i * n + j] = c[j * n + i];
}

// factors_a[l], factors_g[l]: layer l's A and G, updated in place.
template <class T>
void update_kronecker_factors(const std::vector<nn::Layer>& layers, const nn::LayerCapture<T>& capture,
                              const std::vector<T*>& factors_a, const std::vector<T*>& factors_g, double decay) {
  const int64_t batch = capture.batch;
  const double alpha = (1.0 - decay) / static_cast<double>(batch);
  std::vector<double> flops;
  for (const nn::Layer& L : layers) {
    flops.push_back(static_cast<double>(batch) * (L.in + 1) * (L.in + 1));
    flops.push_back(static_cast<double>(batch) * L.out * L.out);
  }
  run_layer_tasks(flops, [&](int64_t task) {
    const int64_t l = task / 2;
    const bool is_a = task % 2 == 0;
    const int64_t n = is_a ? layers[l].in + 1 : layers[l].out;
    T* factor = is_a ? factors_a[l] : factors_g[l];
    lapack::gram_update(n, batch, alpha, (is_a ? capture.a[l] : capture.g[l]).data(), n, decay, factor);
    mirror_upper(factor, n);
  });
}

}  // namespace fastopt::curvature
