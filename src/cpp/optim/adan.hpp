// Adan (Xie, Zhou, Li, Lin & Yan, 2022, "Adan: Adaptive Nesterov Momentum Algorithm for Faster
// Optimizing Deep Models"), optax's scale_by_adan followed by its decoupled weight decay:
//   g <- sign*g;  d = g - g_prev (0 at step 1)
//   m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*d;  n <- b3*n + (1-b3)*(g + (1-b2)*d)^2
//   p <- p*(1 - lr*wd) - lr * (m/bc1 + (1-b2)*v/bc2) / (sqrt(n/bc3) + eps);  g_prev <- g
// optax weighs the difference terms by 1 - b2; the paper's Algorithm 1 and the authors' PyTorch code
// weigh them by b2 (0.92 rather than 0.08 at the defaults).  fastopt follows optax, its named reference.
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T, bool First>
struct AdanRule {
  T sign, decay, b1, one_minus_b1, b2, one_minus_b2, b3, one_minus_b3, c_m, c_v, bc3_sqrt, eps, lr;
  Cautious<T> cautious;
  AdanRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(1 - h["lr"] * h["weight_decay"]), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), b3(h["beta3"]), one_minus_b3(1 - h["beta3"]),
        c_m(1 / (1 - std::pow(h["beta1"], step))), c_v((1 - h["beta2"]) / (1 - std::pow(h["beta2"], step))),
        bc3_sqrt(std::sqrt(1 - std::pow(h["beta3"], step))), eps(h["eps"]), lr(h["lr"]), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T grad = sign * g[i];
    const T diff = First ? T(0) : grad - s[3][i];  // optax: zero at the first step, whatever the grad
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * diff;
    const T sq = grad + one_minus_b2 * diff;
    const T n = b3 * s[2][i] + one_minus_b3 * sq * sq;
    s[0][i] = m;
    s[1][i] = v;
    s[2][i] = n;
    s[3][i] = grad;
    const T update = (c_m * m + c_v * v) / (std::sqrt(n) / bc3_sqrt + eps);
    p[i] = p[i] * decay - lr * (update * cautious_keep(cautious, update, grad));
  }
};

struct Adan : NoCarry {
  static constexpr const char* name = "adan";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kTriple, "beta1", "beta2", "beta3"}, {"eps"}, {"weight_decay"}, {"cautious", kFlag},
             {"maximize", kFlag}},
            {{"exp_avg"}, {"exp_avg_diff"}, {"exp_avg_sq"}, {"pre_grad"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(step == 1, [&](auto first) { for_each_element_cautious(t, AdanRule<T, first()>(h, step)); });
  }
};

}  // namespace fastopt
