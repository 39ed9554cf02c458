// Yogi (Zaheer et al., 2018, "Adaptive Methods for Nonconvex Optimization"), optax's semantics:
// Adam's first moment, an additive second-moment update and no bias correction.
//   g <- sign*g + wd*p;  m <- b1*m + (1-b1)*g;  v <- v - (1-b2)*sign(v - g^2)*g^2
//   p <- p - lr * m / (sqrt(v) + eps)
// v grows or shrinks by at most (1-b2)*g^2 per step, so a sudden large gradient cannot collapse the
// effective step as Adam's multiplicative v <- b2*v + (1-b2)*g^2 can make it jump.
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct YogiRule {
  T lr, sign, wd, b1, one_minus_b1, one_minus_b2, eps;
  Cautious<T> cautious;
  YogiRule(const Hyper& h, int64_t)
      : lr(h["lr"]), sign(h.sign()), wd(h["weight_decay"]), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        one_minus_b2(1 - h["beta2"]), eps(h["eps"]), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T g2 = grad * grad, v_old = s[1][i];
    const T diff = v_old - g2;
    const T direction = diff > T(0) ? T(1) : (diff < T(0) ? T(-1) : diff);  // sign(v - g^2); keeps 0 and NaN
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = v_old - one_minus_b2 * direction * g2;
    s[0][i] = m;
    s[1][i] = v;
    p[i] -= lr * ((m * cautious_keep(cautious, m, grad)) / (std::sqrt(v) + eps));
  }
};

struct Yogi : NoCarry {
  static constexpr const char* name = "yogi";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"initial_accumulator_value"}, {"weight_decay"},
             {"maximize", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq", "initial_accumulator_value"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element_cautious(t, YogiRule<T>(h, step)); }
};

}  // namespace fastopt
