// NAdam (Dozat, 2016) with PyTorch's momentum-decay schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)).
//   p <- p*(1 - lr*wd_decoupled);  g <- sign*g + wd_l2*p
//   m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  denom = sqrt(v/bc2) + eps
//   p <- p - c_grad*g/denom - c_avg*m/denom,
//   c_grad = lr(1-mu_t)/(1 - prod_{i<=t} mu_i),  c_avg = lr*mu_{t+1}/(1 - prod_{i<=t+1} mu_i)
// The product of the mu_i is carried from step to step as "mu_product" (1 before the first step).
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"
#include "common/multi_tensor.hpp"

namespace fastopt {

inline double nadam_mu(const Hyper& h, int64_t step) {
  return h["beta1"] * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(step) * h["momentum_decay"]));
}

template <class T>
struct NadamRule {
  T sign, decay, l2, b1, one_minus_b1, b2, one_minus_b2, bc2, eps, c_grad, c_avg;
  Cautious<T> cautious;
  NadamRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(h.decoupled_decay()), l2(h.l2()), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), bc2(1 - std::pow(h["beta2"], step)), eps(h["eps"]),
        cautious(h.flag("cautious")) {
    const double mu = nadam_mu(h, step), mu_next = nadam_mu(h, step + 1), product = h["mu_product"] * mu;
    c_grad = static_cast<T>(h["lr"] * (1.0 - mu) / (1.0 - product));
    c_avg = static_cast<T>(h["lr"] * mu_next / (1.0 - product * mu_next));
  }

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T param = p[i] * decay;
    T grad = sign * g[i];
    if (l2 != T(0)) grad += l2 * param;
    const T m = b1 * s[0][i] + one_minus_b1 * grad;
    const T v = b2 * s[1][i] + one_minus_b2 * grad * grad;
    s[0][i] = m;
    s[1][i] = v;
    const T denom = std::sqrt(v / bc2) + eps;
    const T update = c_grad * (grad / denom) + c_avg * (m / denom);
    p[i] = param - update * cautious_keep(cautious, update, grad);
  }
};

struct Nadam {
  static constexpr const char* name = "nadam";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"eps"}, {"weight_decay"}, {"momentum_decay"},
             {"decoupled_weight_decay", kFlag}, {"maximize", kFlag}, {"cautious", kFlag}},
            {{"exp_avg"}, {"exp_avg_sq"}},
            {{"mu_product", 1.0}}};
    return s;
  }
  static Carry carry(const Hyper& h, int64_t step) { return {{"mu_product", h["mu_product"] * nadam_mu(h, step)}}; }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    for_each_element_cautious(t, NadamRule<T>(h, step));
  }
};

}  // namespace fastopt
