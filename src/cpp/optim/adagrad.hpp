// Adagrad (Duchi et al., 2011), PyTorch's semantics.
//   g <- sign*g + wd*p;  sum <- sum + g^2;  p <- p - clr * g / (sqrt(sum) + eps),  clr = lr / (1 + (t-1)*lr_decay)
#pragma once
#include <cmath>

#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct AdagradRule {
  T sign, wd, clr, eps;
  AdagradRule(const Hyper& h, int64_t step)
      : sign(h.sign()), wd(h["weight_decay"]), clr(h["lr"] / (1.0 + (step - 1) * h["lr_decay"])), eps(h["eps"]) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T sum = s[0][i] + grad * grad;
    s[0][i] = sum;
    p[i] -= clr * (grad / (std::sqrt(sum) + eps));
  }
};

struct Adagrad : NoCarry {
  static constexpr const char* name = "adagrad";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"lr_decay"}, {"weight_decay"}, {"initial_accumulator_value"}, {"eps"}, {"maximize", kFlag}},
            {{"sum", "initial_accumulator_value"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element(t, AdagradRule<T>(h, step)); }
};

}  // namespace fastopt
