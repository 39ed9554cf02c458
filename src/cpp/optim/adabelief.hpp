// AdaBelief (Zhuang et al., 2020, "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
// Gradients"), optax's scale_by_belief: Adam with the second moment of the prediction error g - m.
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   m <- b1*m + (1-b1)*g;  s <- b2*s + (1-b2)*(g - m)^2 + eps_root
//   m_hat = m/bc1, or b1*m/(1-b1^(t+1)) + (1-b1)*g/bc1 (Nesterov)
//   p <- p - lr * m_hat / (sqrt(s/bc2) + eps)
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T, bool Nesterov>
struct AdaBeliefRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, eps_root, c_m, c_g, bc2_sqrt, eps;
  Cautious<T> cautious;
  AdaBeliefRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), eps_root(h["eps_root"]),
        bc2_sqrt(std::sqrt(1 - std::pow(h["beta2"], step))), eps(h["eps"]), cautious(h.flag("cautious")) {
    const double lr = h["lr"], b1d = h["beta1"], bc1 = 1 - std::pow(b1d, step);
    // lr * m_hat = c_m*m (+ c_g*g): Nesterov looks one step ahead with the next step's bias correction.
    c_m = static_cast<T>(Nesterov ? lr * b1d / (1 - std::pow(b1d, step + 1)) : lr / bc1);
    c_g = static_cast<T>(Nesterov ? lr * (1 - b1d) / bc1 : 0.0);
  }

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T err = grad - m;
    const T var = b2 * s[1][i] + one_minus_b2 * err * err + eps_root;
    s[0][i] = m;
    s[1][i] = var;
    const T update = (Nesterov ? c_m * m + c_g * grad : c_m * m) / (std::sqrt(var) / bc2_sqrt + eps);
    p[i] = param - update * cautious_keep(cautious, update, grad);
  }
};

struct AdaBelief : NoCarry {
  static constexpr const char* name = "adabelief";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"eps_root"}, {"weight_decay"}, {"nesterov", kFlag},
             {"cautious", kFlag}, {"maximize", kFlag}, {"decoupled_weight_decay", kFlag}},
            {{"exp_avg"}, {"exp_avg_var"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    with_flag(h.flag("nesterov"), [&](auto n) { for_each_element_cautious(t, AdaBeliefRule<T, n()>(h, step)); });
  }
};

}  // namespace fastopt
