// Muon (Jordan et al., 2024, "Muon: An optimizer for hidden layers in neural networks"), torch.optim.Muon's
// algorithm, for a whole param group in one call.  Matrices (params of 2 or more dimensions, as
// (shape[0], rest) matrices):
//   B <- lerp(B, g, 1 - mu);  U = nesterov ? lerp(g, B, mu) : B;  O = NS(U)          (newton_schulz.hpp)
//   p <- p (1 - lr wd) - lr' O,  lr' = lr sqrt(max(1, rows/cols))   ("original", Keller Jordan's)
//                                lr' = lr 0.2 sqrt(max(rows, cols)) ("match_rms_adamw", Moonshot's)
// Vectors and scalars (biases, gains: Muon is for matrices) take an AdamW step with their own hyperparameters
// (the practice of Keller Jordan's MuonWithAuxAdam), keeping m in B and v in the second state array.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/multi_tensor.hpp"
#include "common/parallel.hpp"
#include "optim/newton_schulz.hpp"

namespace fastopt {

template <class T>
struct MuonTensor {
  T* param;
  const T* grad;
  T* momentum;     // B (matrices), AdamW's m (vectors)
  T* exp_avg_sq;   // AdamW's v (vectors); null for matrices
  int64_t rows, cols;  // cols = 0 marks a vector (the AdamW fallback)
};

struct MuonHyper {
  double lr, weight_decay, momentum;
  bool nesterov, match_rms_adamw;
  NewtonSchulzCoefficients ns;
  double adamw_lr, adamw_beta1, adamw_beta2, adamw_eps, adamw_weight_decay;
  double grad_scale = 1.0, grad_limit = INFINITY;
};

// torch's lerp: start + w (end - start), from the end for w >= 0.5 (exact at w = 1).
template <class T>
inline T torch_lerp(T start, T end, T w) {
  return w < T(0.5) ? start + w * (end - start) : end - (end - start) * (T(1) - w);
}

template <class T>
inline T transformed_grad(T g, T scale, T limit) {
  return clamp_nan_safe(g * scale, limit);
}

// The matrix update of one tensor; u is a rows x cols work array, `threads` share its loops and GEMMs.
template <class T>
void muon_matrix(const MuonTensor<T>& t, const MuonHyper& h, NewtonSchulzWork<T>& work, T* u, int threads) {
  const int64_t n = t.rows * t.cols;
  const T w = static_cast<T>(1 - h.momentum), mu = static_cast<T>(h.momentum);
  const T scale = static_cast<T>(h.grad_scale), limit = static_cast<T>(h.grad_limit);
  T* __restrict buf = t.momentum;
  const T* __restrict g = t.grad;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (int64_t i = 0; i < n; ++i) {
    const T gi = transformed_grad(g[i], scale, limit);
    const T b = torch_lerp(buf[i], gi, w);
    buf[i] = b;
    u[i] = h.nesterov ? torch_lerp(gi, b, mu) : b;
  }
  newton_schulz(u, t.rows, t.cols, h.ns, work, u, threads);
  const double ratio = h.match_rms_adamw ? 0.2 * std::sqrt(static_cast<double>(std::max(t.rows, t.cols)))
                                         : std::sqrt(std::max(1.0, static_cast<double>(t.rows) / t.cols));
  const T decay = static_cast<T>(1 - h.lr * h.weight_decay), step = static_cast<T>(h.lr * ratio);
  T* __restrict p = t.param;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) num_threads(threads) if (threads > 1)
#endif
  for (int64_t i = 0; i < n; ++i) p[i] = p[i] * decay - step * u[i];
}

// AdamW (torch's) on one vector, at this group's step count.
template <class T>
void muon_adamw(const MuonTensor<T>& t, const MuonHyper& h, int64_t step) {
  const double bc1 = 1 - std::pow(h.adamw_beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(h.adamw_beta2, static_cast<double>(step));
  const T b1 = static_cast<T>(h.adamw_beta1), b2 = static_cast<T>(h.adamw_beta2);
  const T step_size = static_cast<T>(h.adamw_lr / bc1), sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
  const T eps = static_cast<T>(h.adamw_eps), decay = static_cast<T>(1 - h.adamw_lr * h.adamw_weight_decay);
  const T scale = static_cast<T>(h.grad_scale), limit = static_cast<T>(h.grad_limit);
  T* __restrict p = t.param;
  T* __restrict m = t.momentum;
  T* __restrict v = t.exp_avg_sq;
  const T* __restrict g = t.grad;
#pragma omp simd
  for (int64_t i = 0; i < t.rows; ++i) {
    const T gi = transformed_grad(g[i], scale, limit);
    const T mi = torch_lerp(m[i], gi, T(1) - b1);
    const T vi = v[i] * b2 + (T(1) - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) / sqrt_bc2 + eps);
  }
}

// One step over a group.  Big matrices run one after another with both threads in their GEMMs; small
// ones (and the vectors) are shared out whole, one per thread, each with its own work buffers.
template <class T>
void muon_step(const std::vector<MuonTensor<T>>& tensors, const MuonHyper& h, int64_t step) {
  const int threads = num_threads();
  std::vector<int64_t> big, small;
  for (int64_t i = 0; i < static_cast<int64_t>(tensors.size()); ++i) {
    const MuonTensor<T>& t = tensors[i];
    const int64_t r = std::min(t.rows, t.cols), c = std::max(t.rows, t.cols);
    const bool is_big = t.cols > 0 && r * r * c >= kSerialBelowMlpFlops * 64;  // GEMMs worth splitting by rows
    (is_big ? big : small).push_back(i);
  }
  NewtonSchulzWork<T> shared;
  std::vector<T> u;
  for (int64_t i : big) {
    const MuonTensor<T>& t = tensors[i];
    shared.fit(t.rows, t.cols);
    u.resize(static_cast<size_t>(t.rows * t.cols));
    muon_matrix(t, h, shared, u.data(), threads);
  }
  const int64_t count = static_cast<int64_t>(small.size());
  const int team = count > 1 ? std::min<int64_t>(threads, count) : 1;
  std::vector<NewtonSchulzWork<T>> works(static_cast<size_t>(team));
  std::vector<std::vector<T>> us(static_cast<size_t>(team));
  for (int k = 0; k < team; ++k)  // sized for every small matrix, before the parallel region
    for (int64_t i : small)
      if (tensors[i].cols > 0) {
        works[k].fit(tensors[i].rows, tensors[i].cols);
        us[k].resize(std::max(us[k].size(), static_cast<size_t>(tensors[i].rows * tensors[i].cols)));
      }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic) num_threads(team) if (team > 1)
#endif
  for (int64_t j = 0; j < count; ++j) {
    const MuonTensor<T>& t = tensors[small[j]];
    const int64_t me = thread_index();
    if (t.cols == 0) muon_adamw(t, h, step);
    else muon_matrix(t, h, works[me], us[me].data(), 1);
  }
}

}  // namespace fastopt
