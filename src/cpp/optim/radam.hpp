// RAdam (Liu et al., 2020), PyTorch's semantics.
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p;  m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2
//   rectified step (rho_t > 5):  p <- p - (m/bc1) * lr * (sqrt(bc2) / (sqrt(v) + eps)) * r_t
//   otherwise (early steps):     p <- p - (m/bc1) * lr
// Whether the step is rectified is the same for every element, so it is a per-step scalar.
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T, bool Rectified>
struct RadamRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, bc1, lr, bc2_sqrt, eps, rect;
  explicit RadamRule(const Scalars& s)
      : sign(s["sign"]), decay(s["decay"]), l2(s["l2"]), b1(s["beta1"]), one_minus_b1(1 - s["beta1"]),
        b2(s["beta2"]), one_minus_b2(1 - s["beta2"]), bc1(s["bc1"]), lr(s["lr"]), bc2_sqrt(s["bc2_sqrt"]),
        eps(s["eps"]), rect(s["rect"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    const T m_hat = m / bc1;
    if (Rectified) p[i] = param - m_hat * lr * (bc2_sqrt / (std::sqrt(v) + eps)) * rect;
    else p[i] = param - m_hat * lr;
  }
};

struct Radam {
  static constexpr const char* name = "radam";
  static int num_states(const Scalars&) { return 2; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) {
    with_flag(s.flag("rectified"), [&](auto r) { for_each_element(t, RadamRule<T, r()>(s)); });
  }
};

}  // namespace fastopt
