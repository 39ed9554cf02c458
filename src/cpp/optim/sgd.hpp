// SGD with momentum, dampening, Nesterov and L2 weight decay (PyTorch's torch.optim.SGD).
//   g <- sign*g + wd*p;  b <- mu*b + (1-dampening)*g  (b <- g on the first step)
//   g <- g + mu*b (Nesterov) or b;  p <- p - lr*g
#pragma once
#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"

namespace fastopt {

template <class T, bool Momentum, bool Nesterov>
struct SgdRule : NoCarry {
  T lr, sign, wd, mu, buf_keep, grad_scale;
  SgdRule(const Hyper& h, int64_t step)
      : lr(h["lr"]), sign(h.sign()), wd(h["weight_decay"]), mu(h["momentum"]),
        buf_keep(step == 1 ? 0.0 : h["momentum"]), grad_scale(step == 1 ? 1.0 : 1.0 - h["dampening"]) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    if (Momentum) {
      const T buf = buf_keep * s[0][i] + grad_scale * grad;
      s[0][i] = buf;
      grad = Nesterov ? grad + mu * buf : buf;
    }
    p[i] -= lr * grad;
  }
};

struct Sgd : NoCarry {
  static constexpr const char* name = "sgd";
  static int num_states(const Hyper& h) { return h.flag("momentum") ? 1 : 0; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Hyper& h, int64_t step) {
    with_flag(h.flag("momentum"), [&](auto m) {
      with_flag(h.flag("nesterov"), [&](auto n) { for_each_element(t, SgdRule<T, m(), n()>(h, step)); });
    });
  }
};

}  // namespace fastopt
