// RMSprop (Hinton, 2012; centered variant of Graves, 2013), PyTorch's semantics.
//   g <- sign*g + wd*p;  sq <- alpha*sq + (1-alpha)*g^2
//   centered: ga <- ga + (1-alpha)*(g - ga), avg = sqrt(sq - ga^2) + eps;  else avg = sqrt(sq) + eps
//   momentum: b <- mu*b + g/avg, p <- p - lr*b;  else p <- p - lr*g/avg
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T, bool Centered, bool Momentum>
struct RmspropRule {
  T lr, sign, wd, alpha, one_minus_alpha, eps, mu;
  RmspropRule(const Hyper& h, int64_t)
      : lr(h["lr"]), sign(h.sign()), wd(h["weight_decay"]), alpha(h["alpha"]), one_minus_alpha(1 - h["alpha"]),
        eps(h["eps"]), mu(h["momentum"]) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
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

struct Rmsprop : NoCarry {
  static constexpr const char* name = "rmsprop";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"alpha"}, {"eps"}, {"weight_decay"}, {"momentum"}, {"centered", kFlag}, {"maximize", kFlag}},
            {{"square_avg"}, {"grad_avg", "", "centered"}, {"momentum_buffer", "", "momentum"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(h.flag("centered"), [&](auto c) {
      with_flag(h.flag("momentum"), [&](auto m) { for_each_element(t, RmspropRule<T, c(), m()>(h, step)); });
    });
  }
};

}  // namespace fastopt
