// Every elementwise optimizer, as one type list: the bindings and the trajectory loop both walk it,
// so adding an optimizer here makes it available everywhere (Python reads its Spec by name).
#pragma once
#include <string>
#include <tuple>
#include <vector>

#include "optim/adabelief.hpp"
#include "optim/adadelta.hpp"
#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/adamax.hpp"
#include "optim/adan.hpp"
#include "optim/ademamix.hpp"
#include "optim/adopt.hpp"
#include "optim/asgd.hpp"
#include "optim/lamb.hpp"
#include "optim/lars.hpp"
#include "optim/lion.hpp"
#include "optim/lookahead.hpp"
#include "optim/nadam.hpp"
#include "optim/radam.hpp"
#include "optim/rmsprop.hpp"
#include "optim/rprop.hpp"
#include "optim/schedule_free.hpp"
#include "optim/sgd.hpp"
#include "optim/stable_adamw.hpp"
#include "optim/yogi.hpp"

namespace fastopt {

using AllOptimizers = std::tuple<Sgd, Adagrad, Rmsprop, Adadelta, Adam, Adamax, Nadam, Radam, Lion, Yogi, AdaBelief,
                                 Adopt, Ademamix, Adan, Rprop, Asgd, Lamb, Lars, StableAdamw,
                                 ScheduleFreeSgd, ScheduleFreeAdamw, Lookahead>;

template <class T>
using StepFn = void (*)(const std::vector<TensorPtrs<T>>&, const Hyper&, int64_t);

// One optimizer with its type erased: its Spec, its step per element type and its carry, so that
// callers choose an optimizer by name at run time without templates.
struct Kernel {
  const Spec* spec;
  StepFn<float> step_f32;
  StepFn<double> step_f64;
  Carry (*carry)(const Hyper&, int64_t);

  template <class T>
  void step(const std::vector<TensorPtrs<T>>& tensors, const Hyper& h, int64_t step) const {
    if constexpr (std::is_same_v<T, float>) step_f32(tensors, h, step);
    else step_f64(tensors, h, step);
  }
};

// Every optimizer's Kernel, in the order of AllOptimizers.
inline const std::vector<Kernel>& kernels() {
  static const std::vector<Kernel> all = std::apply(
      [](auto... opt) {
        return std::vector<Kernel>{Kernel{&decltype(opt)::spec(), &decltype(opt)::template step<float>,
                                          &decltype(opt)::template step<double>, &decltype(opt)::carry}...};
      },
      AllOptimizers{});
  return all;
}

// The Kernel of the optimizer called `name`, or null.
inline const Kernel* find_kernel(const std::string& name) {
  for (const Kernel& k : kernels())
    if (k.spec->name == name) return &k;
  return nullptr;
}

}  // namespace fastopt
