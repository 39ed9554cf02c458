// RAdam (Liu et al., 2020), PyTorch's semantics.
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p;  m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2
//   rho_inf = 2/(1-b2) - 1,  rho_t = rho_inf - 2t*b2^t/(1-b2^t)
//   rho_t > 5 (rectified):  p <- p - (m/bc1) * lr * (sqrt(bc2) / (sqrt(v) + eps)) * r_t
//   otherwise (early steps): p <- p - (m/bc1) * lr
// Whether a step is rectified is the same for every element: a per-step choice of template.
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"
#include "common/multi_tensor.hpp"

namespace fastopt {

struct RadamSchedule {
  double rho_t, r_t;
  RadamSchedule(const Hyper& h, int64_t step) {
    const double b2 = h["beta2"], b2t = std::pow(b2, step), rho_inf = 2.0 / (1.0 - b2) - 1.0;
    rho_t = rho_inf - 2.0 * step * b2t / (1.0 - b2t);
    r_t = rectified() ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0.0;
  }
  bool rectified() const { return rho_t > 5.0; }
};

template <class T, bool Rectified>
struct RadamRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, bc1, lr, bc2_sqrt, eps, rect;
  Cautious<T> cautious;
  RadamRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), bc1(1 - std::pow(h["beta1"], step)), lr(h["lr"]),
        bc2_sqrt(std::sqrt(1 - std::pow(h["beta2"], step))), eps(h["eps"]), rect(RadamSchedule(h, step).r_t),
        cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    const T m_hat = m / bc1 * cautious_keep(cautious, m, grad);
    if (Rectified) p[i] = param - m_hat * lr * (bc2_sqrt / (std::sqrt(v) + eps)) * rect;
    else p[i] = param - m_hat * lr;
  }
};

struct Radam : NoCarry {
  static constexpr const char* name = "radam";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"decoupled_weight_decay", kFlag},
             {"maximize", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(RadamSchedule(h, step).rectified(), [&](auto r) { for_each_element_cautious(t, RadamRule<T, r()>(h, step)); });
  }
};

}  // namespace fastopt
