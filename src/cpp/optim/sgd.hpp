// SGD with momentum, dampening, Nesterov and L2 weight decay (PyTorch's torch.optim.SGD), or decoupled
// weight decay (SGDW, Loshchilov & Hutter, 2019).
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   b <- mu*b + (1-dampening)*g  (b <- g on the first step with momentum)
//   g <- g + mu*b (Nesterov) or b;  p <- p - lr*g
// "momentum_steps" (carried) counts the steps taken with momentum, so a buffer that starts later
// (momentum switched on mid-run) also starts as the gradient, as in PyTorch.
#pragma once
#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T, bool Momentum, bool Nesterov>
struct SgdRule {
  T lr, sign, decay, l2, mu, buf_keep, grad_scale;
  SgdRule(const Hyper& h, int64_t)
      : lr(h["lr"]), sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), mu(h["momentum"]),
        buf_keep(first(h) ? 0.0 : h["momentum"]), grad_scale(first(h) ? 1.0 : 1.0 - h["dampening"]) {}
  static bool first(const Hyper& h) { return h["momentum_steps"] == 0.0; }

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    if (Momentum) {
      const T buf = buf_keep * s[0][i] + grad_scale * grad;
      s[0][i] = buf;
      grad = Nesterov ? grad + mu * buf : buf;
    }
    p[i] = param - lr * grad;
  }
};

struct Sgd {
  static constexpr const char* name = "sgd";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"momentum"}, {"dampening"}, {"weight_decay"}, {"nesterov", kFlag}, {"maximize", kFlag},
             {"decoupled_weight_decay", kFlag}},
            {{"momentum_buffer", "", "momentum"}},
            {{"momentum_steps", 0.0}}};
    return s;
  }
  static Carry carry(const Hyper& h, int64_t) {
    return {{"momentum_steps", h["momentum_steps"] + (h.flag("momentum") ? 1.0 : 0.0)}};
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(h.flag("momentum"), [&](auto m) {
      with_flag(h.flag("nesterov"), [&](auto n) { for_each_element(t, SgdRule<T, m(), n()>(h, step)); });
    });
  }
};

}  // namespace fastopt
