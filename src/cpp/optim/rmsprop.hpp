// RMSprop (Hinton, 2012; centered variant of Graves, 2013), PyTorch's semantics.
//   g <- sign*g + wd*p;  sq <- alpha*sq + (1-alpha)*g^2
//   centered: ga <- ga + (1-alpha)*(g - ga), avg = sqrt(sq - ga^2) + eps;  else avg = sqrt(sq) + eps
//   momentum: b <- mu*b + g/avg, p <- p - lr*b;  else p <- p - lr*g/avg
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T, bool Centered, bool Momentum>
struct RmspropRule {
  T lr, sign, wd, alpha, one_minus_alpha, eps, mu;
  explicit RmspropRule(const Scalars& s)
      : lr(s["lr"]), sign(s["sign"]), wd(s["weight_decay"]), alpha(s["alpha"]), one_minus_alpha(1 - s["alpha"]),
        eps(s["eps"]), mu(s["momentum"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T sq = alpha * s[0][i] + one_minus_alpha * grad * grad;
    s[0][i] = sq;
    T avg;
    if (Centered) {
      const T ga = s[1][i] + one_minus_alpha * (grad - s[1][i]);
      s[1][i] = ga;
      avg = std::sqrt(sq - ga * ga) + eps;
    } else {
      avg = std::sqrt(sq) + eps;
    }
    if (Momentum) {
      constexpr int k = Centered ? 2 : 1;
      const T buf = mu * s[k][i] + grad / avg;
      s[k][i] = buf;
      p[i] -= lr * buf;
    } else {
      p[i] -= lr * (grad / avg);
    }
  }
};

struct Rmsprop {
  static constexpr const char* name = "rmsprop";
  static int num_states(const Scalars& s) { return 1 + s.flag("centered") + s.flag("has_momentum"); }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) {
    with_flag(s.flag("centered"), [&](auto c) {
      with_flag(s.flag("has_momentum"), [&](auto m) { for_each_element(t, RmspropRule<T, c(), m()>(s)); });
    });
  }
};

}  // namespace fastopt
