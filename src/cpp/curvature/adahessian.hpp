// AdaHessian's moment update (Yao et al., 2021, "ADAHESSIAN: An Adaptive Second Order Optimizer for
// Machine Learning"), as the authors' PyTorch implementation runs it, over the flat parameter buffer:
//   p <- p*(1 - lr*wd)                              (decoupled weight decay)
//   m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*D^2   (D: Hutchinson's Hessian diagonal, read only)
//   p <- p - (lr/bc1) * m / ((v/bc2)^(k/2) + eps)   (k: the Hessian power; k = 1 takes a square root)
// The multi-tensor driver runs it: state slot 0 is m, 1 is v, 2 is D.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/multi_tensor.hpp"

namespace fastopt::curvature {

struct AdaHessianHyper {
  double lr, beta1, beta2, eps, weight_decay, hessian_power;
};

template <class T, bool UnitPower>
struct AdaHessianRule {
  T decay, b1, one_minus_b1, b2, one_minus_b2, step_size, bc2_sqrt, inv_bc2, half_power, eps;
  AdaHessianRule(const AdaHessianHyper& h, int64_t step)
      : decay(static_cast<T>(1.0 - h.lr * h.weight_decay)), b1(h.beta1), one_minus_b1(1.0 - h.beta1), b2(h.beta2),
        one_minus_b2(1.0 - h.beta2), step_size(h.lr / (1.0 - std::pow(h.beta1, step))),
        bc2_sqrt(std::sqrt(1.0 - std::pow(h.beta2, step))), inv_bc2(1.0 / (1.0 - std::pow(h.beta2, step))),
        half_power(h.hessian_power / 2.0), eps(h.eps) {}

  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T m = b1 * s[0][i] + one_minus_b1 * g[i];
    const T d = s[2][i];
    const T v = b2 * s[1][i] + one_minus_b2 * d * d;
    s[0][i] = m;
    s[1][i] = v;
    // k = 1 divides as Adam's rule does (optim/adam.hpp): D = g gives AdamW.
    const T denom = (UnitPower ? std::sqrt(v) / bc2_sqrt : std::pow(v * inv_bc2, half_power)) + eps;
    const T param = p[i] * decay;
    p[i] = param - step_size * m / denom;
  }
};

// One AdaHessian step over n elements (OpenMP over chunks); `step` >= 1 is the bias corrections' t.
template <class T>
void adahessian_step(T* params, const T* grads, T* exp_avg, T* exp_hessian_diag_sq, T* hessian_diag, int64_t n,
                     const AdaHessianHyper& h, int64_t step) {
  const std::vector<TensorPtrs<T>> tensor{{params, grads, {exp_avg, exp_hessian_diag_sq, hessian_diag, nullptr}, n}};
  if (h.hessian_power == 1.0) for_each_element(tensor, AdaHessianRule<T, true>(h, step));
  else for_each_element(tensor, AdaHessianRule<T, false>(h, step));
}

}  // namespace fastopt::curvature
