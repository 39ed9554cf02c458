// Adadelta (Zeiler, 2012), PyTorch's semantics.
//   g <- sign*g + wd*p;  sq <- rho*sq + (1-rho)*g^2
//   d = sqrt(acc + eps) / sqrt(sq + eps) * g;  acc <- rho*acc + (1-rho)*d^2;  p <- p - lr*d
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct AdadeltaRule {
  T lr, sign, wd, rho, one_minus_rho, eps;
  AdadeltaRule(const Hyper& h, int64_t)
      : lr(h["lr"]), sign(h.sign()), wd(h["weight_decay"]), rho(h["rho"]), one_minus_rho(1 - h["rho"]),
        eps(h["eps"]) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T sq = rho * s[0][i] + one_minus_rho * grad * grad;
    s[0][i] = sq;
    const T delta = std::sqrt(s[1][i] + eps) / std::sqrt(sq + eps) * grad;
    s[1][i] = rho * s[1][i] + one_minus_rho * delta * delta;
    p[i] -= lr * delta;
  }
};

struct Adadelta : NoCarry {
  static constexpr const char* name = "adadelta";
  static const Spec& spec() {
    static const Spec s{name, {{"lr"}, {"rho"}, {"eps"}, {"weight_decay"}, {"maximize", kFlag}}, {{"square_avg"}, {"acc_delta"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element(t, AdadeltaRule<T>(h, step)); }
};

}  // namespace fastopt
