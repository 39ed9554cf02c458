// Rprop (Riedmiller & Braun, 1993, "A Direct Adaptive Method for Faster Backpropagation Learning: The
// RPROP Algorithm"), torch.optim.Rprop's variant: every element has its own step size, grown by
// etaplus while its gradient keeps its sign and shrunk by etaminus when the sign flips.
//   g <- sign*g;  s = g*g_prev
//   step <- clamp(step * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0), step_min, step_max)
//   g <- 0 where s < 0 (no move after a flip, and no flip seen next time);  p <- p - sign(g)*step;  g_prev <- g
// Step sizes start at lr, so lr matters only at the first step.
#pragma once
#include "common/hyper.hpp"
#include "common/ieee_math.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct RpropRule {
  T sign, etaminus, etaplus, step_min, step_max;
  RpropRule(const Hyper& h, int64_t)
      : sign(h.sign()), etaminus(h["etaminus"]), etaplus(h["etaplus"]), step_min(h["step_size_min"]),
        step_max(h["step_size_max"]) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T grad = sign * g[i];
    const T agree = grad * s[0][i];
    // torch: sign(agree) mapped to etaplus / etaminus / 1; a NaN stays NaN.
    const T factor = agree > T(0) ? etaplus : (agree < T(0) ? etaminus : (agree == T(0) ? T(1) : agree));
    const T step = nan_clamp(s[1][i] * factor, step_min, step_max);
    const T kept = agree < T(0) ? T(0) : grad;
    s[0][i] = kept;
    s[1][i] = step;
    p[i] -= nan_sign(kept) * step;
  }
};

struct Rprop : NoCarry {
  static constexpr const char* name = "rprop";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"etas", kPair, "etaminus", "etaplus"}, {"step_sizes", kPair, "step_size_min", "step_size_max"},
             {"maximize", kFlag}},
            {{"prev"}, {"step_size", "lr"}}};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) {
    for_each_element(t, RpropRule<T>(h, step));
  }
};

}  // namespace fastopt
