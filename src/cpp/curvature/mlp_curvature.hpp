// Curvature-vector products of the MLP's loss (nn/mlp.hpp, inference mode: no dropout) with respect
// to its flat parameter buffer: the exact Hessian, the generalised Gauss-Newton matrix and the
// Fisher information, each applied to a direction v = (V_l, Vb_l per layer) in the gradient layout.
//
// All start with the forward pass and its R-operator twin (Pearlmutter 1994): R{a_0} = 0,
//   R{z_l} = a_{l-1} V_l^T + R{a_{l-1}} W_l^T + Vb_l,   R{a_l} = f'(z_l) R{z_l},
// so R{z_L} = J v (J: Jacobian of the logits in the parameters).  Per row, with p = softmax(z_L),
// the target q and H = diag(p) - p p^T (the loss's Hessian in the logits):
//   hessian           forward-over-backward: the gradient's backward pass and its R-operator,
//                     R{dz_L} = H J v, R{da_{l-1}} = R{dz_l} W_l + dz_l V_l,
//                     R{dz_l} = R{da_l} f'(z_l) + da_l f''(z_l) R{z_l},
//                     (Hv)_{W_l} = R{dz_l}^T a_{l-1} + dz_l^T R{a_{l-1}},  (Hv)_{b_l} = sum_rows R{dz_l}.
//   ggn               J^T H J v: the ordinary backward pass of u = H J v.  Equals the true Fisher
//                     E_{y ~ p}[g g^T] of softmax cross-entropy, since E_y[(p - e_y)(p - e_y)^T] = H.
//   empirical_fisher  sum_i g_i (g_i . v) with g_i = J_i^T e_i, e_i = p_i - q_i the row's loss
//                     gradient in the logits: g_i . v = e_i . (J v)_i, so backward u_i = e_i (e_i . (J v)_i).
//   mc_fisher         the same with e = p - onehot(y~), y~ ~ Categorical(p) drawn S times per row
//                     (u_i = mean_s e_s (e_s . (J v)_i)): an unbiased estimate of the true Fisher.
//                     Draws hash (seed, global row, draw), so they do not depend on batching or threads.
// Each product is scaled by `scale` (1 / N for the mean over N samples) and added over the batch's rows.
//
// Threading as the MLP: each thread takes a block of rows through the forward, R-forward and the
// input-side backward passes, one barrier, then the parameter-side products are shared out by
// output units; BLAS single-threaded inside the region.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/parallel.hpp"
#include "nn/activation.hpp"
#include "nn/bias_activation.hpp"
#include "nn/dense.hpp"
#include "nn/dropout.hpp"
#include "nn/layout.hpp"
#include "nn/mlp.hpp"
#include "nn/sampling.hpp"
#include "nn/softmax_xent.hpp"

namespace fastopt::curvature {

enum class CurvatureKind { hessian, ggn, empirical_fisher, mc_fisher };

// u (K,) = scale * mean over e in `targets` of e (e . r), e = p - t, t a target distribution; the
// Fisher rows' output matrix applied to r = (J v)_i.  t_of(s, j): target s's probability of class j.
template <class T, class Target>
void outer_product_row(T* u, const T* logits, const T* r, double lse, int64_t k, int64_t draws, double scale,
                       const Target& t_of, std::vector<double>& acc) {  // acc: scratch
  acc.assign(k, 0.0);
  double p_dot_r = 0.0;
  for (int64_t j = 0; j < k; ++j) p_dot_r += std::exp(static_cast<double>(logits[j]) - lse) * r[j];
  for (int64_t s = 0; s < draws; ++s) {
    double t_dot_r = 0.0;
    for (int64_t j = 0; j < k; ++j) t_dot_r += t_of(s, j) * r[j];
    const double e_dot_r = p_dot_r - t_dot_r;
    for (int64_t j = 0; j < k; ++j) acc[j] += (std::exp(static_cast<double>(logits[j]) - lse) - t_of(s, j)) * e_dot_r;
  }
  for (int64_t j = 0; j < k; ++j) u[j] = static_cast<T>(acc[j] * scale / static_cast<double>(draws));
}

template <class T>
class MLPCurvature {
 public:
  // net must outlive this object (the binding keeps it alive); draws >= 1 (mc_fisher only).
  MLPCurvature(nn::MLP<T>& net, CurvatureKind kind, uint64_t seed, int64_t draws)
      : net_(net), kind_(kind), key_(nn::mix64(seed ^ 0x3c6ef372fe94f82bULL)), draws_(draws) {
    const size_t n = net.layers().size();
    z_.resize(n), a_.resize(n), dz_.resize(n), rz_.resize(n), ra_.resize(n), rdz_.resize(n);
  }

  nn::MLP<T>& net() { return net_; }

  // out (P,) (+ when accumulate)= scale * sum over the batch's rows of C_i v, for x (B, in),
  // labels (B,), v (P,); first_row: the batch's first row in the whole data set (seeds mc_fisher).
  void apply(const T* x, const int64_t* labels, int64_t batch, int64_t first_row, double smoothing, const T* v, T* out,
             double scale, bool accumulate) {
    std::lock_guard<std::mutex> lock(busy_);
    reserve(batch);
    const std::vector<nn::Layer>& layers = net_.layers();
    const int64_t last = static_cast<int64_t>(layers.size()) - 1;
    const T* w = net_.params();
    const bool hessian = kind_ == CurvatureKind::hessian;
    const int64_t threads = net_.threads_for_rows(batch);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
      const int64_t tid = thread_index(), nth = team_size();
      const nn::Range rows = nn::share(batch, nth, tid);
      const int64_t r0 = rows.begin, r1 = rows.end;
      forward_rows(x, v, r0, r1);
      RowScratch scratch;
      for (int64_t r = r0; r < r1; ++r) output_row(r, labels[r], first_row + r, smoothing, scale, scratch);
      nn::with_activation<T>(net_.activation(), net_.activation_params(), [&](const auto& act) {
        for (int64_t l = last; l > 0; --l) {
          const nn::Layer& L = layers[l];
          if (hessian) {
            nn::dense_backward_input_rows(dz_[l - 1].data(), dz_[l].data(), w + L.weight, L.in, L.out, r0, r1);
            nn::dense_rbackward_input_rows(rdz_[l - 1].data(), rdz_[l].data(), dz_[l].data(), w + L.weight,
                                           v + L.weight, L.in, L.out, r0, r1);
            nn::bias_activation_rbackward_rows(rdz_[l - 1].data(), dz_[l - 1].data(), z_[l - 1].data(),
                                               rz_[l - 1].data(), act, L.in, r0, r1);
          } else {  // J^T: the plain backward pass of u
            nn::dense_backward_input_rows(rdz_[l - 1].data(), rdz_[l].data(), w + L.weight, L.in, L.out, r0, r1);
            nn::bias_activation_backward_rows(rdz_[l - 1].data(), z_[l - 1].data(), act, nullptr, T(1), L.in, r0, r1);
          }
        }
      });
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier
#endif
      for (int64_t l = 0; l <= last; ++l) {
        const nn::Layer& L = layers[l];
        const nn::Range units = nn::share(L.out, nth, tid);
        const T* in = l == 0 ? x : a_[l - 1].data();
        if (hessian)
          nn::dense_rbackward_weight_units(out + L.weight, rdz_[l].data(), dz_[l].data(), in,
                                           l == 0 ? nullptr : ra_[l - 1].data(), batch, L.in, L.out, units.begin,
                                           units.end, accumulate);
        else
          nn::dense_backward_weight_units(out + L.weight, rdz_[l].data(), in, batch, L.in, L.out, units.begin,
                                          units.end, accumulate);
        nn::bias_backward_units(out + L.bias, rdz_[l].data(), batch, L.out, units.begin, units.end, accumulate);
      }
    }
  }

 private:
  nn::MLP<T>& net_;
  CurvatureKind kind_;
  uint64_t key_;
  int64_t draws_;
  // per layer, (capacity, out): z, a = f(z) (hidden layers), dL/dz (then dL/da), and their R{.}
  std::vector<std::vector<T>> z_, a_, dz_, rz_, ra_, rdz_;
  int64_t capacity_ = 0;
  std::mutex busy_;  // the workspace serves one call at a time

  struct RowScratch {  // one per thread: the Fisher rows' accumulator and sampled classes
    std::vector<double> acc;
    std::vector<int64_t> drawn;
  };

  void reserve(int64_t batch) {
    if (batch <= capacity_) return;
    const std::vector<nn::Layer>& layers = net_.layers();
    for (size_t l = 0; l < layers.size(); ++l) {
      const int64_t n = batch * layers[l].out;
      z_[l].resize(n), rz_[l].resize(n), rdz_[l].resize(n);
      if (kind_ == CurvatureKind::hessian || l + 1 == layers.size()) dz_[l].resize(n);
      if (l + 1 < layers.size()) a_[l].resize(n), ra_[l].resize(n);
    }
    capacity_ = batch;
  }

  // Rows [r0, r1) through every layer and its R-operator: z, a, R{z} = J v, R{a}.
  void forward_rows(const T* x, const T* v, int64_t r0, int64_t r1) {
    const std::vector<nn::Layer>& layers = net_.layers();
    const T* w = net_.params();
    const int64_t last = static_cast<int64_t>(layers.size()) - 1;
    for (int64_t l = 0; l <= last; ++l) {
      const nn::Layer& L = layers[l];
      const T* in = l == 0 ? x : a_[l - 1].data();
      const T* rin = l == 0 ? nullptr : ra_[l - 1].data();
      nn::dense_forward_rows(z_[l].data(), in, w + L.weight, L.in, L.out, r0, r1);
      nn::dense_rforward_rows(rz_[l].data(), in, rin, w + L.weight, v + L.weight, L.in, L.out, r0, r1);
      if (l == last) {
        nn::bias_forward_rows(z_[l].data(), w + L.bias, L.out, r0, r1);
        nn::bias_forward_rows(rz_[l].data(), v + L.bias, L.out, r0, r1);
        continue;
      }
      nn::with_activation<T>(net_.activation(), net_.activation_params(), [&](const auto& act) {
        nn::bias_activation_forward_rows(a_[l].data(), z_[l].data(), w + L.bias, act, nullptr, T(1), L.out, r0, r1);
        nn::bias_activation_rforward_rows(ra_[l].data(), rz_[l].data(), v + L.bias, z_[l].data(), act, L.out, r0, r1);
      });
    }
  }

  // Row r's logits stage: rdz = scale * M_r R{z} for the kind's output matrix M_r (and, for the
  // Hessian, the gradient dz = scale (p - q) whose backward pass the R-operator follows).
  void output_row(int64_t r, int64_t y, int64_t global_row, double smoothing, double scale, RowScratch& scratch) {
    const int64_t last = static_cast<int64_t>(net_.layers().size()) - 1, k = net_.num_classes();
    const T* logits = &z_[last][r * k];
    const T* rlogits = &rz_[last][r * k];
    T* rdz = &rdz_[last][r * k];
    double lse;
    nn::softmax_xent_forward_row(logits, y, k, smoothing, &lse);
    switch (kind_) {
      case CurvatureKind::hessian:
        nn::softmax_xent_backward_row(&dz_[last][r * k], logits, lse, y, k, smoothing, scale);
        nn::softmax_xent_rbackward_row(rdz, logits, rlogits, lse, k, scale);
        break;
      case CurvatureKind::ggn:
        nn::softmax_xent_rbackward_row(rdz, logits, rlogits, lse, k, scale);
        break;
      case CurvatureKind::empirical_fisher: {  // q = (1 - eps) onehot(y) + eps / K
        const double off = smoothing / static_cast<double>(k);
        const auto q = [&](int64_t, int64_t j) { return (j == y ? 1.0 - smoothing : 0.0) + off; };
        outer_product_row(rdz, logits, rlogits, lse, k, 1, scale, q, scratch.acc);
        break;
      }
      case CurvatureKind::mc_fisher: {  // t_s = onehot(y~_s)
        std::vector<int64_t>& drawn = scratch.drawn;
        drawn.resize(draws_);
        for (int64_t s = 0; s < draws_; ++s)
          drawn[s] = nn::sample_class(logits, lse, k, nn::uniform_draw(key_, global_row, s));
        const auto t = [&](int64_t s, int64_t j) { return j == drawn[s] ? 1.0 : 0.0; };
        outer_product_row(rdz, logits, rlogits, lse, k, draws_, scale, t, scratch.acc);
        break;
      }
    }
  }
};

}  // namespace fastopt::curvature
