// LARS (You, Gitman & Ginsburg, 2017, "Large Batch Training of Convolutional Networks"), optax's lars:
// weight decay, the per-tensor trust ratio, the learning rate, then heavy-ball momentum.
//   u = sign*g + wd*p;  r = tc * |p| / (|u| + eps) per tensor (1 if either norm is 0, or trust_ratio off)
//   d = lr * r * u;  m <- momentum*m + d;  p <- p - (nesterov ? d + momentum*m : m)
// (optax's trace holds -d; fastopt's momentum buffer holds +d, the same path.)  A group with
// trust_ratio=False and weight_decay=0 is optax's masking of biases and norms (its *_mask=False).
#pragma once
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"
#include "common/tensor_sums.hpp"
#include "common/trust_ratio.hpp"

namespace fastopt {

template <class T, bool Momentum>
struct LarsRule {
  T sign, wd, momentum, scale;
  bool nesterov;

  LarsRule(const Hyper& h, int64_t)
      : sign(h.sign()), wd(h["weight_decay"]), momentum(h["momentum"]), scale(h["lr"]), nesterov(h.flag("nesterov")) {}

  T direction(const T* p, const T* g, int64_t i) const { return sign * g[i] + wd * p[i]; }

  void reduce(T* __restrict p, const T* __restrict g, T* const*, int64_t i, double* sums) const {
    const T u = direction(p, g, i);
    sums[0] += static_cast<double>(p[i]) * p[i];
    sums[1] += static_cast<double>(u) * u;
  }
  // The update pass, with scale = lr * this tensor's trust ratio.
  LarsRule with(double ratio) const {
    LarsRule r = *this;
    r.scale = static_cast<T>(scale * ratio);
    return r;
  }
  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T d = scale * direction(p, g, i);
    if (!Momentum) {
      p[i] -= d;
      return;
    }
    const T m = momentum * s[0][i] + d;
    s[0][i] = m;
    p[i] -= nesterov ? d + momentum * m : m;
  }
};

struct Lars : NoCarry {
  static constexpr const char* name = "lars";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"momentum"}, {"weight_decay"}, {"trust_coefficient"}, {"eps"}, {"nesterov", kFlag},
             {"trust_ratio", kFlag}, {"maximize", kFlag}},
            {{"momentum_buffer", "", "momentum"}}};
    return s;
  }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Hyper& h, int64_t step) {
    with_flag(h["momentum"] != 0.0, [&](auto m) {
      const LarsRule<T, m()> rule(h, step);
      if (!h.flag("trust_ratio")) return for_each_element(t, rule);
      const double tc = h["trust_coefficient"], eps = h["eps"];
      for_each_element_per_tensor<2>(t, rule,
                                     [&](const Sums<2>& sq, int64_t) { return trust_ratio(sq[0], sq[1], tc, eps); });
    });
  }
};

}  // namespace fastopt
