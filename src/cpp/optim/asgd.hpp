// Averaged SGD (Polyak & Juditsky, 1992, "Acceleration of Stochastic Approximation by Averaging"), as
// torch.optim.ASGD: SGD with a decaying step eta and a running average ax of the iterates.
//   g <- sign*g + wd*p;  p <- p*(1 - lambd*eta) - eta*g;  ax <- p if mu == 1, else ax + mu*(p - ax)
//   then for the next step:  eta = lr / (1 + lambd*lr*t)^alpha,  mu = 1 / max(1, t - t0)
// eta and mu are carried per group (torch keeps them per param, always equal); the first step uses
// eta = lr and mu = 1, as torch's state starts.
#pragma once
#include <algorithm>
#include <cmath>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T, bool Average>
struct AsgdRule {
  T sign, wd, shrink, eta, mu;
  AsgdRule(const Hyper& h, int64_t step)
      : sign(h.sign()), wd(h["weight_decay"]), shrink(1 - h["lambd"] * eta_at(h, step)), eta(eta_at(h, step)),
        mu(h["mu"]) {}
  static double eta_at(const Hyper& h, int64_t step) { return step == 1 ? h["lr"] : h["eta"]; }

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    T grad = sign * g[i];
    if (wd != T(0)) grad += wd * p[i];
    const T param = p[i] * shrink - eta * grad;
    p[i] = param;
    s[0][i] = Average ? s[0][i] + (param - s[0][i]) * mu : param;
  }
};

struct Asgd {
  static constexpr const char* name = "asgd";
  static const Spec& spec() {
    static const Spec s{name, {{"lr"}, {"lambd"}, {"alpha"}, {"t0"}, {"weight_decay"}, {"maximize", kFlag}},
                        {{"ax"}}, {{"eta", 0.0}, {"mu", 1.0}}};
    return s;
  }
  static Carry carry(const Hyper& h, int64_t step) {
    const double lr = h["lr"], t = static_cast<double>(step);
    return {{"eta", lr / std::pow(1 + h["lambd"] * lr * t, h["alpha"])}, {"mu", 1 / std::max(1.0, t - h["t0"])}};
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(h["mu"] != 1.0, [&](auto a) { for_each_element(t, AsgdRule<T, a()>(h, step)); });
  }
};

}  // namespace fastopt
