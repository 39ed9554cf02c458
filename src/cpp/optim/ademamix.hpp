// AdEMAMix (Pagliardini, Ablin & Grangier, 2024, "The AdEMAMix Optimizer: Better, Faster, Older"), as
// the authors' PyTorch code (apple/ml-ademamix): Adam's fast EMA mixed with a slow EMA of the gradient.
//   g <- sign*g;  m1 <- b1*m1 + (1-b1)*g;  m2 <- b3_t*m2 + (1-b3_t)*g;  v <- b2*v + (1-b2)*g^2
//   p <- p*(1 - lr*wd) - lr * (m1/bc1 + alpha_t*m2) / (sqrt(v/bc2) + eps)
// The schedulers (per step, on the host): alpha_t rises linearly from 0 over alpha_warmup steps; b3_t
// moves from b1 to b3 over beta3_warmup steps linearly in half-life space, f(b) = ln(1/2)/ln(b) - 1.
// A warmup of 0 means none (the authors' None).
#pragma once
#include <cmath>

#include "common/cautious.hpp"
#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

// The authors' linear_warmup_scheduler (from 0) and linear_hl_warmup_scheduler (from beta1, with their
// 1e-8 inside the logarithm), at step t.
inline double ademamix_alpha(const Hyper& h, int64_t t) {
  const double warmup = h["alpha_warmup"], step = static_cast<double>(t);
  return warmup > 0 && step < warmup ? step / warmup * h["alpha"] : h["alpha"];
}

inline double ademamix_beta3(const Hyper& h, int64_t t) {
  const double warmup = h["beta3_warmup"], step = static_cast<double>(t);
  if (!(warmup > 0 && step < warmup)) return h["beta3"];
  auto half_life = [](double beta) { return std::log(0.5) / std::log(beta + 1e-8) - 1; };
  const double a = step / warmup, life = (1.0 - a) * half_life(h["beta1"]) + a * half_life(h["beta3"]);
  return std::pow(0.5, 1 / (life + 1));
}

template <class T>
struct AdemamixRule {
  T sign, decay, b1, one_minus_b1, b2, one_minus_b2, b3, one_minus_b3, inv_bc1, alpha, inv_bc2_sqrt, eps, lr;
  Cautious<T> cautious;
  AdemamixRule(const Hyper& h, int64_t step)
      : sign(h.sign()), decay(1 - h["lr"] * h["weight_decay"]), b1(h["beta1"]), one_minus_b1(1 - h["beta1"]),
        b2(h["beta2"]), one_minus_b2(1 - h["beta2"]), b3(ademamix_beta3(h, step)),
        one_minus_b3(1 - ademamix_beta3(h, step)), inv_bc1(1 / (1 - std::pow(h["beta1"], step))),
        alpha(ademamix_alpha(h, step)), inv_bc2_sqrt(1 / std::sqrt(1 - std::pow(h["beta2"], step))), eps(h["eps"]),
        lr(h["lr"]), cautious(h.flag("cautious")) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T grad = sign * g[i];
    const T fast = b1 * s[0][i] + one_minus_b1 * grad;
    const T slow = b3 * s[1][i] + one_minus_b3 * grad;
    const T v = b2 * s[2][i] + one_minus_b2 * grad * grad;
    s[0][i] = fast;
    s[1][i] = slow;
    s[2][i] = v;
    // One division per element (the bias corrections as precomputed reciprocals): three kept it from the memory wall.
    const T update = (fast * inv_bc1 + alpha * slow) / (std::sqrt(v) * inv_bc2_sqrt + eps);
    p[i] = p[i] * decay - lr * (update * cautious_keep(cautious, update, grad));
  }
};

struct Ademamix : NoCarry {
  static constexpr const char* name = "ademamix";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kTriple, "beta1", "beta2", "beta3"}, {"alpha"}, {"beta3_warmup"}, {"alpha_warmup"},
             {"eps"}, {"weight_decay"}, {"cautious", kFlag}, {"maximize", kFlag}},
            {{"exp_avg_fast"}, {"exp_avg_slow"}, {"exp_avg_sq"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    for_each_element_cautious(t, AdemamixRule<T>(h, step));
  }
};

}  // namespace fastopt
