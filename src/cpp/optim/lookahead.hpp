// Lookahead's synchronisation (Zhang et al., 2019), every k inner steps:
//   slow <- slow + alpha*(fast - slow);  fast <- slow
// It reads no gradient: the driver hands it a null grad pointer.
#pragma once
#include "common/multi_tensor.hpp"
#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt {

template <class T>
struct LookaheadRule {
  T alpha;
  LookaheadRule(const Hyper& h, int64_t) : alpha(h["alpha"]) {}

  FASTOPT_HD void operator()(T* __restrict p, const T* __restrict, T* const* s, int64_t i) const {
    const T slow = s[0][i] + alpha * (p[i] - s[0][i]);
    s[0][i] = slow;
    p[i] = slow;
  }
};

struct Lookahead : NoCarry {
  static constexpr const char* name = "lookahead";
  static const Spec& spec() {
    static const Spec s{name, {{"alpha"}}, {{"slow", "param"}}, {}, /*reads_grad=*/false};
    return s;
  }
  template <class T, class Tensors = std::vector<TensorPtrs<T>>>
  static void step(const Tensors& t, const Hyper& h, int64_t step) { for_each_element(t, LookaheadRule<T>(h, step)); }
};

}  // namespace fastopt
