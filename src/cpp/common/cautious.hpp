// The cautious option of the Adam family and Lion (Liang et al., 2024, "Cautious Optimizers: Improving
// Training with One Line of Code"): an update component is kept only where it points the way of the
// gradient, and the kept ones are rescaled per tensor by n / (nnz(mask) + 1), as the authors' code
// does (mask * mask.numel() / (mask.sum() + 1)), so the update's average size survives the masking.
//
// The rescale needs the tensor's count of kept components before any of them moves, so a cautious
// step is two passes (common/tensor_sums.hpp): the first runs the rule on copies of each element
// (writing nothing) and counts what its mask keeps, the second runs it for real with the tensor's
// factor.  A rule holds a Cautious<T> named `cautious`, multiplies its update by
// cautious_keep(cautious, update, grad), and its optimizer steps with for_each_element_cautious.
#pragma once
#include <cstdint>
#include <vector>

#include "common/hd.hpp"
#include "common/multi_tensor.hpp"
#include "common/tensor_sums.hpp"

namespace fastopt {

template <class T>
struct Cautious {
  bool on = false;
  T scale = T(1);       // the update pass: this tensor's n / (kept + 1)
  mutable T kept = 0;   // the counting pass: the last mask applied (a register in the update pass)
  Cautious(bool on_) : on(on_) {}  // NOLINT: rules initialise it from the flag, cautious(h.flag("cautious"))
};

// The mask times the tensor's rescale factor where an update component points the way of the gradient
// (update * grad > 0), else 0; 1 when the option is off.  Multiplied into the update rather than
// selecting, so a NaN update stays NaN (NaN * 0), as in optax's contrib.cautious.  No branch and no
// store through a pointer: the update pass vectorises as without the option.
template <class T>
FASTOPT_HD inline T cautious_keep(const Cautious<T>& c, T update, T grad) {
  const T keep = update * grad > T(0) ? T(1) : T(0);
  c.kept = keep;
  return c.on ? keep * c.scale : T(1);
}

// The counting pass's view of a rule: the rule run on copies of one element, its mask counted.
template <class Rule>
struct CountKept {
  const Rule& rule;
  template <class T>
  void reduce(T* __restrict p, const T* __restrict g, T* const* s, int64_t i, double* sums) const {
    T param = p[i], state[kMaxStates];
    T* copies[kMaxStates];
    for (int k = 0; k < kMaxStates; ++k) {
      state[k] = s[k] ? s[k][i] : T(0);
      copies[k] = s[k] ? &state[k] : nullptr;
    }
    const Rule counting = rule;
    counting(&param, g ? g + i : nullptr, copies, 0);
    sums[0] += counting.cautious.kept;
  }
};

// A rule with the cautious mask rescaled per tensor (Rule::cautious.scale set per tensor).
template <class Rule>
struct CautiousScaled {
  Rule rule;
  template <class S>
  Rule with(S scale) const {
    Rule r = rule;
    r.cautious.scale = scale;
    return r;
  }
};

// for_each_element, with the cautious rescale's counting pass first when the rule's option is on.  Any
// list of tensors with a tensor_sums and a for_each_element (float32/float64 here, the mixed-precision
// list of common/mixed_precision.hpp).
template <class Tensors, class Rule>
void for_each_element_cautious(const Tensors& tensors, const Rule& rule) {
  using T = decltype(rule.cautious.scale);
  if (!rule.cautious.on) return for_each_element(tensors, rule);
  const std::vector<Sums<1>> kept = tensor_sums<1>(tensors, CountKept<Rule>{rule});
  std::vector<T> scales(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t)
    scales[t] = static_cast<T>(static_cast<double>(tensors[t].n) / (kept[t][0] + 1.0));
  for_each_element(tensors, PerTensor<CautiousScaled<Rule>, T>{CautiousScaled<Rule>{rule}, scales});
}

}  // namespace fastopt
