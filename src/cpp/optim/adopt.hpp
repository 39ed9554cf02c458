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

// The first step: v <- g^2, and the params move only by decoupled decay.
template <class T>
struct AdoptFirstRule {
  T sign, decay, l2;
  AdoptFirstRule(const Hyper& h, int64_t) : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    s[1][i] = grad * grad;
    p[i] = param;
  }
};

template <class T, bool Clipping, bool Nesterov>
struct AdoptRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, lr, eps, clip;
  Cautious<T> cautious;
  AdoptRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), lr(h["lr"]), eps(h["eps"]),
        clip(static_cast<T>(std::pow(static_cast<double>(step - 1), 0.25))), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T v = s[1][i];
    T normed = grad / nan_max(std::sqrt(v), eps);
    if (Clipping) normed = nan_clamp(normed, -clip, clip);
    const T m = b1 * s[0][i] + one_minus_b1 * normed;
    const T update = Nesterov ? b1 * m + one_minus_b1 * normed : m;
    s[0][i] = m;
    s[1][i] = b2 * v + one_minus_b2 * grad * grad;
    p[i] = param - lr * (update * cautious_keep(cautious, update, grad));
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
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    if (step == 1) return for_each_element(t, AdoptFirstRule<T>(h, step));
    with_flag(h.flag("use_clipping"), [&](auto c) {
      with_flag(h.flag("nesterov"), [&](auto n) { for_each_element_cautious(t, AdoptRule<T, c(), n()>(h, step)); });
    });
  }
};

}  // namespace fastopt
