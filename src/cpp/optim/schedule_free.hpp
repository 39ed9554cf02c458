// Schedule-Free SGD and AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, 2024, "The Road Less
// Scheduled"), as the authors' schedulefree package (SGDScheduleFree, AdamWScheduleFree).  The param
// holds y, the point gradients are taken at; the state z is the plain (S)GD sequence, and the
// average x (what to evaluate) is never stored: y = (1-b1)*z + b1*x, so eval()/train() in Python
// swap the param between y and x.  Per step k = step - 1:
//   lr_k = lr * min(1, (k+1)/warmup_steps);  lr_max = max(lr_max, lr_k)
//   w = (k+1)^r * lr_max^weight_lr_power;  weight_sum += w;  c = w / weight_sum
//   AdamW: v <- b2*v + (1-b2)*g^2;  d = g / (sqrt(v/(1-b2^(k+1))) + eps) + wd*y     SGD: d = g + wd*y
//   y <- y + c*(z - y) + lr_k*(b1*(1-c) - 1)*d;   z <- z - lr_k*d
// lr_max and weight_sum are carried per group (scalars, no reduction over the arrays).
#pragma once
#include <algorithm>
#include <cmath>

#include "common/hd.hpp"
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

// The step's scheduled rate and averaging weight, from the carried lr_max and weight_sum.
struct ScheduleFreeWeights {
  double lr, lr_max, weight_sum, c;
  ScheduleFreeWeights(const Hyper& h, int64_t step) {
    const double k = static_cast<double>(step - 1), warmup = h["warmup_steps"];
    lr = h["lr"] * (k < warmup ? (k + 1) / warmup : 1.0);
    lr_max = std::max(lr, h["lr_max"]);
    const double weight = std::pow(k + 1, h["r"]) * std::pow(lr_max, h["weight_lr_power"]);
    weight_sum = h["weight_sum"] + weight;
    c = weight_sum != 0.0 ? weight / weight_sum : 0.0;  // the authors' ZeroDivisionError -> 0
  }
};

template <class T, bool Adaptive>
struct ScheduleFreeRule {
  T sign, wd, c, lr, y_step, b2, one_minus_b2, inv_bc2, eps;
  ScheduleFreeRule(const Hyper& h, int64_t step, const ScheduleFreeWeights& w)
      : sign(h.sign()), wd(h["weight_decay"]), c(w.c), lr(w.lr), y_step(w.lr * (beta1(h) * (1 - w.c) - 1)),
        b2(Adaptive ? h["beta2"] : 0.0), one_minus_b2(Adaptive ? 1 - h["beta2"] : 0.0),
        inv_bc2(Adaptive ? 1 / (1 - std::pow(h["beta2"], step)) : 1.0), eps(Adaptive ? h["eps"] : 0.0) {}
  static double beta1(const Hyper& h) { return Adaptive ? h["beta1"] : h["momentum"]; }

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (Adaptive) {
      const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
      s[1][i] = v;
      grad = grad / (std::sqrt(v * inv_bc2) + eps);
    }
    const T y = p[i], z = s[0][i];
    const T d = grad + wd * y;
    p[i] = (y + c * (z - y)) + y_step * d;
    s[0][i] = z - lr * d;
  }
};

template <bool Adaptive>
struct ScheduleFree {
  static constexpr const char* name = Adaptive ? "schedulefree_adamw" : "schedulefree_sgd";
  static const Spec& spec() {
    static const Spec s = Adaptive
        ? Spec{name,
               {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"warmup_steps"}, {"r"},
                {"weight_lr_power"}, {"maximize", kFlag}},
               {{"z", "param"}, {"exp_avg_sq"}},
               {{"lr_max", -1.0}, {"weight_sum", 0.0}}}
        : Spec{name,
               {{"lr"}, {"momentum"}, {"weight_decay"}, {"warmup_steps"}, {"r"}, {"weight_lr_power"},
                {"maximize", kFlag}},
               {{"z", "param"}},
               {{"lr_max", -1.0}, {"weight_sum", 0.0}}};
    return s;
  }
  static Carry carry(const Hyper& h, int64_t step) {
    const ScheduleFreeWeights w(h, step);
    return {{"lr_max", w.lr_max}, {"weight_sum", w.weight_sum}};
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    for_each_element(t, ScheduleFreeRule<T, Adaptive>(h, step, ScheduleFreeWeights(h, step)));
  }
};
using ScheduleFreeSgd = ScheduleFree<false>;
using ScheduleFreeAdamw = ScheduleFree<true>;

}  // namespace fastopt
