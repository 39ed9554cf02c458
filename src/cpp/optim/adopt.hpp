// ADOPT (Taniguchi et al., 2024, "ADOPT: Modified Adam Can Converge with Any beta2 with the Optimal
// Rate"), optax.contrib's scale_by_adopt with the official PyTorch code's weight decay.  The gradient is
// normalised by the second moment of the steps before it, then enters the momentum:
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   step 1:  v <- g^2 (no move)
//   step t:  u = clip(g / max(sqrt(v), eps), (t-1)^(1/4));  m <- b1*m + (1-b1)*u
//            p <- p - lr * (m, or b1*m + (1-b1)*u with Nesterov);  v <- b2*v + (1-b2)*g^2
// The clip bound (t-1)^(1/4) is the paper's c_t = t^(1/4) counted from the first update (optax's
// clip_value_fn(count)); use_clipping off divides without clipping.
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/ieee_math.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct AdoptRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, lr, eps, clip;
  bool first, clipping, nesterov, cautious;
  AdoptRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), lr(h["lr"]), eps(h["eps"]),
        clip(static_cast<T>(std::pow(static_cast<double>(step - 1), 0.25))),
        first(step == 1), clipping(h.flag("use_clipping")), nesterov(h.flag("nesterov")),
        cautious(h.flag("cautious")) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    // The first step only records v; selects (not branches) keep the loop vectorisable.
    const T v = s[1][i], m_old = s[0][i];
    s[1][i] = first ? grad * grad : b2 * v + one_minus_b2 * grad * grad;
    T normed = grad / nan_max(std::sqrt(v), eps);
    if (clipping) normed = nan_clamp(normed, -clip, clip);
    const T m = b1 * m_old + one_minus_b1 * normed;
    const T update = nesterov ? b1 * m + one_minus_b1 * normed : m;
    s[0][i] = first ? m_old : m;
    p[i] = first ? param : param - lr * (update * cautious_keep(cautious, update, grad));
  }
};

struct Adopt : NoCarry {
  static constexpr const char* name = "adopt";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"use_clipping", kFlag},
             {"nesterov", kFlag}, {"cautious", kFlag}, {"maximize", kFlag}, {"decoupled_weight_decay", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}}};
    return s;
  }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Hyper& h, int64_t step) {
    for_each_element(t, AdoptRule<T>(h, step));
  }
};

}  // namespace fastopt
