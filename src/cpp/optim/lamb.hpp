// LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes"),
// optax's lamb: Adam's bias-corrected direction plus weight decay, scaled per tensor by the trust ratio.
//   g <- sign*g;  m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2
//   u = (m/bc1) / (sqrt(v/bc2 + eps_root) + eps) + wd*p
//   p <- p - lr * r * u,   r = |p| / |u| per tensor (1 if either is 0)
// Two passes (common/tensor_sums.hpp): the first updates m and v and sums p^2 and u^2 per tensor, the
// second reads m and v back and moves p.
#pragma once
#include <cmath>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"
#include "common/tensor_sums.hpp"
#include "common/trust_ratio.hpp"

namespace fastopt {

template <class T>
struct LambRule {
  T sign, b1, one_minus_b1, b2, one_minus_b2, inv_bc1, inv_bc2, eps_root, eps, wd, step_size;

  LambRule(const Hyper& h, int64_t step)
      : sign(h.sign()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]), b2(h["beta2"]), one_minus_b2(1 - h["beta2"]),
        inv_bc1(1 / (1 - std::pow(h["beta1"], step))), inv_bc2(1 / (1 - std::pow(h["beta2"], step))),
        eps_root(h["eps_root"]), eps(h["eps"]), wd(h["weight_decay"]), step_size(h["lr"]) {}

  T direction(T param, T m, T v) const { return (m * inv_bc1) / (std::sqrt(v * inv_bc2 + eps_root) + eps) + wd * param; }

  void reduce(T* __restrict p, const T* __restrict g, T* const* s, int64_t i, double* sums) const {
    const T grad = sign * g[i];
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    const T u = direction(p[i], m, v);
    sums[0] += static_cast<double>(p[i]) * p[i];
    sums[1] += static_cast<double>(u) * u;
  }
  // The update pass, with step_size = lr * this tensor's trust ratio.
  LambRule with(double ratio) const {
    LambRule r = *this;
    r.step_size = static_cast<T>(step_size * ratio);
    return r;
  }
  void operator()(T* __restrict p, const T* __restrict, T* const* s, int64_t i) const {
    p[i] -= step_size * direction(p[i], s[0][i], s[1][i]);
  }
};

struct Lamb : NoCarry {
  static constexpr const char* name = "lamb";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"eps_root"}, {"weight_decay"}, {"maximize", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}}};
    return s;
  }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Hyper& h, int64_t step) {
    for_each_element_per_tensor<2>(t, LambRule<T>(h, step),
                                   [](const Sums<2>& sq, int64_t) { return trust_ratio(sq[0], sq[1], 1.0, 0.0); });
  }
};

}  // namespace fastopt
