// Adam (Kingma & Ba, 2015), AdamW (Loshchilov & Hutter, 2019) and AMSGrad (Reddi et al., 2018).
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  vmax <- max(vmax, v)  (AMSGrad)
//   p <- p - (lr/bc1) * m / (sqrt(v or vmax)/sqrt(bc2) + eps)
// cautious (Liang et al., 2024): m enters only where m*g > 0 (common/cautious.hpp).
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"
#include "common/ieee_math.hpp"
#include "common/multi_tensor.hpp"

namespace fastopt {

template <class T, bool Amsgrad>
struct AdamRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, step_size, bc2_sqrt, eps;
  Cautious<T> cautious;
  AdamRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]),
        one_minus_b1(1 - h["beta1"]), b2(h["beta2"]), one_minus_b2(1 - h["beta2"]),
        step_size(h["lr"] / (1 - std::pow(h["beta1"], step))), bc2_sqrt(std::sqrt(1 - std::pow(h["beta2"], step))),
        eps(h["eps"]), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    T v_used = v;
    if (Amsgrad) {
      v_used = nan_max(s[2][i], v);
      s[2][i] = v_used;
    }
    p[i] = param - step_size * (m * cautious_keep(cautious, m, grad)) / (std::sqrt(v_used) / bc2_sqrt + eps);
  }
};

struct Adam : NoCarry {
  static constexpr const char* name = "adam";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"amsgrad", kFlag},
             {"maximize", kFlag}, {"decoupled_weight_decay", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}, {"max_exp_avg_sq", "", "amsgrad"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(h.flag("amsgrad"), [&](auto a) { for_each_element_cautious(t, AdamRule<T, a()>(h, step)); });
  }
};

}  // namespace fastopt
