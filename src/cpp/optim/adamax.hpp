// Adamax (Kingma & Ba, 2015, section 7), PyTorch's semantics.
//   g <- sign*g + wd*p;  m <- b1*m + (1-b1)*g;  u <- max(b2*u, |g| + eps);  p <- p - (lr/bc1) * m/u
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T>
struct AdamaxRule {
  T sign, wd, b1, one_minus_b1, b2, eps, clr;
  explicit AdamaxRule(const Scalars& s)
      : sign(s["sign"]), wd(s["weight_decay"]), b1(s["beta1"]), one_minus_b1(1 - s["beta1"]), b2(s["beta2"]),
        eps(s["eps"]), clr(s["clr"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T decayed = b2 * s[1][i], bound = std::fabs(grad) + eps;
    const T u = decayed > bound ? decayed : bound;
    s[0][i] = m;
    s[1][i] = u;
    p[i] -= clr * (m / u);
  }
};

struct Adamax {
  static constexpr const char* name = "adamax";
  static int num_states(const Scalars&) { return 2; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) { for_each_element(t, AdamaxRule<T>(s)); }
};

}  // namespace fastopt
