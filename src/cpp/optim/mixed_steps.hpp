// Every optimizer of AllOptimizers instantiated over MixedTensors (common/mixed_precision.hpp): its own rule
// run on float32 tiles of bfloat16/float16 params and bfloat16 or 8-bit state.  Lives apart from all.hpp so
// the CUDA build, which walks all.hpp, never sees the host-only mixed driver.
#pragma once
#include <string>
#include <tuple>

#include "common/mixed_precision.hpp"
#include "optim/all.hpp"

namespace fastopt {

using MixedStepFn = void (*)(const MixedTensors&, const Hyper&, int64_t);

// The mixed-precision step of the optimizer called `name`, or null.
inline MixedStepFn find_mixed_step(const std::string& name) {
  MixedStepFn found = nullptr;
  std::apply([&](auto... opt) {
    ((name == decltype(opt)::name ? (found = &decltype(opt)::template step<float, MixedTensors>, 0) : 0), ...);
  }, AllOptimizers{});
  return found;
}

}  // namespace fastopt
