// StableAdamW (Wortsman et al., 2023, "Stable and low-precision training for large-scale
// vision-language models", Algorithm 2): AdamW with debiased betas and AdaFactor's update clipping
// applied per tensor, as a learning rate that shrinks when the gradient outruns its second moment.
//   g <- sign*g;  b^ = b*(1 - b^(t-1)) / (1 - b^t)  (for b1 and b2: the moments are their own bias correction)
//   m <- b1^*m + (1-b1^)*g;  v <- b2^*v + (1-b2^)*g^2
//   eta = lr / max(1, RMS / clip_threshold),  RMS = sqrt(mean(g^2 / max(v, eps^2))) per tensor
//   p <- p*(1 - eta*wd) - eta * m / (sqrt(v) + eps)
// Two passes (common/tensor_sums.hpp): the first updates m and v and sums g^2/max(v, eps^2) per tensor.
#pragma once
#include <algorithm>
#include <cmath>

#include "common/hyper.hpp"
#include "common/ieee_math.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"
#include "common/tensor_sums.hpp"

namespace fastopt {

template <class T>
struct StableAdamwRule {
  T sign, b1, one_minus_b1, b2, one_minus_b2, eps, eps_sq, lr, wd, eta = 0;

  static double debiased(double beta, int64_t step) {
    return beta * (1 - std::pow(beta, step - 1)) / (1 - std::pow(beta, step));
  }
  StableAdamwRule(const Hyper& h, int64_t step)
      : sign(h.sign()), b1(debiased(h["beta1"], step)), one_minus_b1(1 - debiased(h["beta1"], step)),
        b2(debiased(h["beta2"], step)), one_minus_b2(1 - debiased(h["beta2"], step)), eps(h["eps"]),
        eps_sq(h["eps"] * h["eps"]), lr(h["lr"]), wd(h["weight_decay"]) {}

  void reduce(T* __restrict, const T* __restrict g, T* const* s, int64_t i, double* sums) const {
    const T grad = sign * g[i];
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    sums[0] += static_cast<double>(grad * grad) / static_cast<double>(nan_max(v, eps_sq));  // torch.maximum keeps a NaN v
  }
  // The update pass, with this tensor's clipped rate.
  StableAdamwRule with(double clipped_lr) const {
    StableAdamwRule r = *this;
    r.eta = static_cast<T>(clipped_lr);
    return r;
  }
  void operator()(T* __restrict p, const T* __restrict, T* const* s, int64_t i) const {
    p[i] = p[i] * (1 - eta * wd) - eta * s[0][i] / (std::sqrt(s[1][i]) + eps);
  }
};

struct StableAdamw : NoCarry {
  static constexpr const char* name = "stable_adamw";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"clip_threshold"},
             {"maximize", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}}};
    return s;
  }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Hyper& h, int64_t step) {
    const double lr = h["lr"], threshold = h["clip_threshold"];
    for_each_element_per_tensor<1>(t, StableAdamwRule<T>(h, step), [&](const Sums<1>& sum, int64_t n) {
      const double rms = n > 0 ? std::sqrt(sum[0] / static_cast<double>(n)) : 0.0;
      return lr / std::max(1.0, rms / threshold);  // a NaN rms (NaN gradient) keeps lr: std::max(1, NaN) is 1
    });
  }
};

}  // namespace fastopt
