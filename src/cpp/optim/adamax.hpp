// Adamax (Kingma & Ba, 2015, section 7), PyTorch's semantics.
//   g <- sign*g + wd*p;  m <- b1*m + (1-b1)*g;  u <- max(b2*u, |g| + eps);  p <- p - (lr/bc1) * m/u
// cautious (Liang et al., 2024): m enters only where m*g > 0 (common/cautious.hpp).
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"
#include "common/ieee_math.hpp"
#include "common/multi_tensor.hpp"

namespace fastopt {

template <class T>
struct AdamaxRule {
  T sign, wd, b1, one_minus_b1, b2, eps, clr;
  Cautious<T> cautious;
  AdamaxRule(const Hyper& h, int64_t step)
      : sign(h.sign()), wd(h["weight_decay"]), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]), b2(h["beta2"]),
        eps(h["eps"]), clr(h["lr"] / (1 - std::pow(h["beta1"], step))), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T u = nan_max(b2 * s[1][i], std::fabs(grad) + eps);
    s[0][i] = m;
    s[1][i] = u;
    p[i] -= clr * ((m * cautious_keep(cautious, m, grad)) / u);
  }
};

struct Adamax : NoCarry {
  static constexpr const char* name = "adamax";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"maximize", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}, {"exp_inf"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element_cautious(t, AdamaxRule<T>(h, step)); }
};

}  // namespace fastopt
