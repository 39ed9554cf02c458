// Lookahead's synchronisation (Zhang et al., 2019), every k inner steps:
//   slow <- slow + alpha*(fast - slow);  fast <- slow
// It reads no gradient: the driver hands it a null grad pointer.
#pragma once
#include "common/multi_tensor.hpp"
#include "common/scalars.hpp"

namespace fastopt {

template <class T>
struct LookaheadRule {
  T alpha;
  explicit LookaheadRule(const Scalars& s) : alpha(s["alpha"]) {}

  void operator()(T* __restrict p, const T* __restrict, T* const* s, int64_t i) const {
    const T slow = s[0][i] + alpha * (p[i] - s[0][i]);
    s[0][i] = slow;
    p[i] = slow;
  }
};

struct Lookahead {
  static constexpr const char* name = "lookahead";
  static int num_states(const Scalars&) { return 1; }
  template <class T>
  static void step(const std::vector<TensorPtrs<T>>& t, const Scalars& s) { for_each_element(t, LookaheadRule<T>(s)); }
};

}  // namespace fastopt
