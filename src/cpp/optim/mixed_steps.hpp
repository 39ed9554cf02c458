// Every optimizer of AllOptimizers instantiated over MixedTensors (common/mixed_precision.hpp): its own rule
// run on float32 tiles of bfloat16/float16 params and bfloat16 or 8-bit state.  Lives apart from all.hpp so
// the CUDA build, which walks all.hpp, never sees the host-only mixed driver.
#pragma once
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/mixed_precision.hpp"
#include "optim/all.hpp"

namespace fastopt {

using MixedStepFn = void (*)(const MixedTensors&, const Hyper&, int64_t);

// Optimizers whose step takes any list of tensors; those whose reduction pass writes state or spans the
// group (LAMB, LARS, StableAdamW, Prodigy: common/tensor_sums.hpp) take float32/float64 lists only.
template <class Opt, class = void>
struct RunsMixed : std::false_type {};
template <class Opt>
struct RunsMixed<Opt, std::void_t<decltype(Opt::template step<float, MixedTensors>(
                          std::declval<const MixedTensors&>(), std::declval<const Hyper&>(), int64_t{}))>>
    : std::true_type {};

template <class Opt>
MixedStepFn mixed_step_of() {
  if constexpr (RunsMixed<Opt>::value) return &Opt::template step<float, MixedTensors>;
  else return nullptr;
}

// The mixed-precision step of the optimizer called `name`, or null when it has none.
inline MixedStepFn find_mixed_step(const std::string& name) {
  MixedStepFn found = nullptr;
  std::apply([&](auto... opt) {
    ((name == decltype(opt)::name ? (found = mixed_step_of<decltype(opt)>(), 0) : 0), ...);
  }, AllOptimizers{});
  return found;
}

}  // namespace fastopt
