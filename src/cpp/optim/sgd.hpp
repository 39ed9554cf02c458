// SGD with momentum, dampening, Nesterov and L2 weight decay (PyTorch's torch.optim.SGD).
//   g <- sign*g + wd*p;  b <- mu*b + (1-dampening)*g  (b <- g on the first step)
//   g <- g + mu*b (Nesterov) or b;  p <- p - lr*g
#pragma once
#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T, bool Momentum, bool Nesterov>
struct SgdRule {
  T lr, sign, wd, mu, buf_keep, grad_scale;
  explicit SgdRule(const Scalars& s)
      : lr(s["lr"]), sign(s["sign"]), wd(s["weight_decay"]), mu(s["momentum"]),
        buf_keep(s["buf_keep"]), grad_scale(s["buf_grad_scale"]) {}

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

struct Sgd {
  static constexpr const char* name = "sgd";
  static int num_states(const Scalars& s) { return s.flag("has_momentum") ? 1 : 0; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) {
    with_flag(s.flag("has_momentum"), [&](auto m) {
      with_flag(s.flag("nesterov"), [&](auto n) { for_each_element(t, SgdRule<T, m(), n()>(s)); });
    });
  }
};

}  // namespace fastopt
