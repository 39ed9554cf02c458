// NAdam (Dozat, 2016) with PyTorch's momentum-decay schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)).
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  denom = sqrt(v/bc2) + eps
//   p <- p - c_grad*g/denom - c_avg*m/denom,  with c_grad = lr(1-mu_t)/(1-prod mu), c_avg = lr*mu_{t+1}/(1-prod mu incl. mu_{t+1})
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T>
struct NadamRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, bc2, eps, c_grad, c_avg;
  explicit NadamRule(const Scalars& s)
      : sign(s["sign"]), decay(s["decay"]), l2(s["l2"]), b1(s["beta1"]), one_minus_b1(1 - s["beta1"]),
        b2(s["beta2"]), one_minus_b2(1 - s["beta2"]), bc2(s["bc2"]), eps(s["eps"]), c_grad(s["c_grad"]),
        c_avg(s["c_avg"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    const T denom = std::sqrt(v / bc2) + eps;
    p[i] = param - c_grad * (grad / denom) - c_avg * (m / denom);
  }
};

struct Nadam {
  static constexpr const char* name = "nadam";
  static int num_states(const Scalars&) { return 2; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) { for_each_element(t, NadamRule<T>(s)); }
};

}  // namespace fastopt
