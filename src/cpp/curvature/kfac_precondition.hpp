// K-FAC's preconditioning of each dense layer's gradient, weight and bias together as one matrix
// M = [dW, db] (out x (in + 1)), written to `out` in the gradient layout:
//   eigen    V = Q_G [ (Q_G^T M Q_A) / (S + damping) ] Q_A^T          (4 GEMMs, elementwise divide)
//            S_ij = (d_G,i + shift_g)(d_A,j + shift_a)   K-FAC: the Kronecker eigenvalues; shifts 0
//                                                        for Tikhonov damping, pi sqrt(d) and sqrt(d)/pi
//                                                        (damping 0) for the factored damping
//            S_ij = scale_ij                             EKFAC: the rescaled diagonal (George et al. 2018)
//            = (A (x) G + damping I)^-1 vec(M) for K-FAC with Tikhonov damping.
//   inverse  V = G_inv M A_inv, the damped inverses of kfac_decompose.hpp   (2 GEMMs)
// Each layer's rows are cut into blocks, one task each (run_layer_tasks), so the big first layer uses
// every thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "curvature/layer_tasks.hpp"
#include "common/parallel.hpp"
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

// m (out, in + 1) <- [dW, db] from the gradient layout.
template <class T>
void gather_layer(T* m, const T* flat, const nn::Layer& L) {
  for (int64_t i = 0; i < L.out; ++i) {
    std::copy(flat + L.weight + i * L.in, flat + L.weight + (i + 1) * L.in, m + i * (L.in + 1));
    m[i * (L.in + 1) + L.in] = flat[L.bias + i];
  }
}

// Rows [r0, r1) of m (out, in + 1) back to the gradient layout.
template <class T>
void scatter_rows(T* flat, const T* m, const nn::Layer& L, int64_t r0, int64_t r1) {
  for (int64_t i = r0; i < r1; ++i) {
    std::copy(m + i * (L.in + 1), m + i * (L.in + 1) + L.in, flat + L.weight + i * L.in);
    flat[L.bias + i] = m[i * (L.in + 1) + L.in];
  }
}

// One task: rows [r0, r1) of layer l's output.  The big first layer would otherwise leave all
// threads but one idle, so each layer's rows are cut into blocks of about equal work.
struct RowBlock {
  int64_t layer, r0, r1;
};

// out (P,) <- the preconditioned gradient of grads (P,); eigen: as above, else the inverse path.
// Every product is split by rows of its result: phase 1 forms T = (Q_G^T M Q_A) / (S + damping) (or
// the inverse path's G_inv M A_inv) block by block, phase 2 (eigen) Q_G T Q_A^T, each block writing
// its own rows.
template <class T>
void precondition_layers(const std::vector<nn::Layer>& layers, const std::vector<LayerPreconditioner<T>>& pre,
                         bool eigen, double damping, const T* grads, T* out) {
  const int64_t count = static_cast<int64_t>(layers.size());
  std::vector<std::vector<T>> m(count), work(count);
  std::vector<RowBlock> blocks;
  std::vector<double> flops;
  const int64_t parts = std::max<int64_t>(1, num_threads());
  for (int64_t l = 0; l < count; ++l) {  // allocated here: nothing may throw inside the regions
    const nn::Layer& L = layers[l];
    m[l].resize(L.out * (L.in + 1));
    work[l].resize(m[l].size());
    gather_layer(m[l].data(), grads, L);
    const double per_row = 2.0 * (L.in + 1) * static_cast<double>(L.out + L.in + 1);  // per phase
    const int64_t pieces = per_row * L.out < kSerialBelowTaskFlops ? 1 : std::min(parts, L.out);
    for (int64_t k = 0; k < pieces; ++k) {
      const nn::Range r = nn::share(L.out, pieces, k);
      blocks.push_back({l, r.begin, r.end});
      flops.push_back(per_row * static_cast<double>(r.end - r.begin));
    }
  }
  std::vector<std::vector<T>> scratch(blocks.size());
  for (size_t k = 0; k < blocks.size(); ++k)
    scratch[k].resize((blocks[k].r1 - blocks[k].r0) * (layers[blocks[k].layer].in + 1));
  run_layer_tasks(flops, [&](int64_t k) {  // phase 1, rows [r0, r1) of T
    const auto [l, r0, r1] = blocks[k];
    const LayerPreconditioner<T>& p = pre[l];
    const int64_t rows = layers[l].out, cols = layers[l].in + 1, n = r1 - r0;
    T* t = scratch[k].data();
    T* w = work[l].data() + r0 * cols;
    if (!eigen) {  // G_inv[r0:r1] M A_inv
      nn::gemm(false, false, n, cols, rows, T(1), p.qg + r0 * rows, rows, m[l].data(), cols, T(0), t, cols);
      nn::gemm(false, false, n, cols, cols, T(1), t, cols, p.qa, cols, T(0), w, cols);
      return;
    }
    nn::gemm(true, false, n, cols, rows, T(1), p.qg + r0, rows, m[l].data(), cols, T(0), t, cols);  // Q_G^T M
    nn::gemm(false, false, n, cols, cols, T(1), t, cols, p.qa, cols, T(0), w, cols);               // (.) Q_A
    for (int64_t i = r0; i < r1; ++i) {
      const double dg = p.scale ? 0.0 : static_cast<double>(p.dg[i]) + p.shift_g;
      T* row = work[l].data() + i * cols;
      for (int64_t j = 0; j < cols; ++j) {
        const double s = p.scale ? static_cast<double>(p.scale[i * cols + j])
                                 : dg * (static_cast<double>(p.da[j]) + p.shift_a);
        row[j] = static_cast<T>(static_cast<double>(row[j]) / (s + damping));
      }
    }
  });
  if (eigen) {
    run_layer_tasks(flops, [&](int64_t k) {  // phase 2, rows [r0, r1) of Q_G T Q_A^T into m
      const auto [l, r0, r1] = blocks[k];
      const LayerPreconditioner<T>& p = pre[l];
      const int64_t rows = layers[l].out, cols = layers[l].in + 1, n = r1 - r0;
      T* t = scratch[k].data();
      nn::gemm(false, false, n, cols, rows, T(1), p.qg + r0 * rows, rows, work[l].data(), cols, T(0), t, cols);
      nn::gemm(false, true, n, cols, cols, T(1), t, cols, p.qa, cols, T(0), m[l].data() + r0 * cols, cols);
    });
  }
  for (const RowBlock& b : blocks) scatter_rows(out, (eigen ? m : work)[b.layer].data(), layers[b.layer], b.r0, b.r1);
}

}  // namespace fastopt::curvature
