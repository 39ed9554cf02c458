// Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").
//   p <- p*(1 - lr*wd);  p <- p - lr*sign(b1*m + (1-b1)*g);  m <- b2*m + (1-b2)*g
// cautious (Liang et al., 2024): the sign enters only where it agrees with g (common/cautious.hpp).
#pragma once
#include "common/cautious.hpp"
#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct LionRule {
  T sign, decay, lr, b1, one_minus_b1, b2, one_minus_b2;
  Cautious<T> cautious;
  LionRule(const Hyper& h, int64_t)
      : sign(h.sign()), decay(1 - h["lr"] * h["weight_decay"]), lr(h["lr"]), b1(h["beta1"]),
        one_minus_b1(1 - h["beta1"]), b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T grad = sign * g[i];
    const T c = b1 * s[0][i] + one_minus_b1 * grad;
    const T dir = c > T(0) ? T(1) : (c < T(0) ? T(-1) : c);  // sign(c); keeps 0 and NaN as they are
    p[i] = p[i] * decay - lr * (dir * cautious_keep(cautious, dir, grad));
    s[0][i] = b2 * s[0][i] + one_minus_b2 * grad;
  }
};

struct Lion : NoCarry {
  static constexpr const char* name = "lion";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"weight_decay"}, {"maximize", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element_cautious(t, LionRule<T>(h, step)); }
};

}  // namespace fastopt
