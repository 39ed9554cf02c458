// Adagrad (Duchi et al., 2011), PyTorch's semantics.
//   g <- sign*g + wd*p;  sum <- sum + g^2;  p <- p - clr * g / (sqrt(sum) + eps),  clr = lr / (1 + (t-1)*lr_decay)
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T>
struct AdagradRule {
  T sign, wd, clr, eps;
  explicit AdagradRule(const Scalars& s) : sign(s["sign"]), wd(s["weight_decay"]), clr(s["clr"]), eps(s["eps"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T sum = s[0][i] + grad * grad;
    s[0][i] = sum;
    p[i] -= clr * (grad / (std::sqrt(sum) + eps));
  }
};

struct Adagrad {
  static constexpr const char* name = "adagrad";
  static int num_states(const Scalars&) { return 1; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) { for_each_element(t, AdagradRule<T>(s)); }
};

}  // namespace fastopt
