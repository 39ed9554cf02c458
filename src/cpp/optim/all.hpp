// Every elementwise optimizer, as one type list: the bindings and the trajectory loop both walk it,
// so adding an optimizer here makes it available everywhere (Python reads its Spec by name).
#pragma once
#include <string>
#include <tuple>
#include <type_traits>
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
#include "optim/prodigy.hpp"
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
                                 ScheduleFreeSgd, ScheduleFreeAdamw, Prodigy, Lookahead>;

template <class T>
using StepFn = void (*)(const std::vector<TensorPtrs<T>>&, const Hyper&, int64_t);
using GroupStepFn = Carry (*)(const std::vector<TensorPtrs<float>>&, const std::vector<TensorPtrs<double>>&,
                              const Hyper&, int64_t);

// An optimizer whose step reduces over the whole group, both dtypes together (Prodigy's distance
// estimate), declares static Carry step_group(f32, f64, h, step) instead of step<T> and carry.
template <class Opt, class = void>
struct StepsGroup : std::false_type {};
template <class Opt>
struct StepsGroup<Opt, std::void_t<decltype(&Opt::step_group)>> : std::true_type {};

// One optimizer with its type erased: its Spec and its step, so that callers choose an optimizer by
// name at run time without templates.
struct Kernel {
  const Spec* spec;
  StepFn<float> step_f32 = nullptr;
  StepFn<double> step_f64 = nullptr;
  Carry (*carry)(const Hyper&, int64_t) = nullptr;
  GroupStepFn group_step = nullptr;  // set for StepsGroup optimizers, which have no per-dtype step

  // One step over a group's tensors (float32 and float64); returns the values carried to the next step.
  Carry step(const std::vector<TensorPtrs<float>>& f32, const std::vector<TensorPtrs<double>>& f64, const Hyper& h,
             int64_t step) const {
    if (group_step) return group_step(f32, f64, h, step);
    if (!f32.empty()) step_f32(f32, h, step);
    if (!f64.empty()) step_f64(f64, h, step);
    return carry(h, step);
  }
};

template <class Opt>
Kernel kernel_of() {
  if constexpr (StepsGroup<Opt>::value) return Kernel{&Opt::spec(), nullptr, nullptr, nullptr, &Opt::step_group};
  else return Kernel{&Opt::spec(), &Opt::template step<float>, &Opt::template step<double>, &Opt::carry};
}

// Every optimizer's Kernel, in the order of AllOptimizers.
inline const std::vector<Kernel>& kernels() {
  static const std::vector<Kernel> all =
      std::apply([](auto... opt) { return std::vector<Kernel>{kernel_of<decltype(opt)>()...}; }, AllOptimizers{});
  return all;
}

// The Kernel of the optimizer called `name`, or null.
inline const Kernel* find_kernel(const std::string& name) {
  for (const Kernel& k : kernels())
    if (k.spec->name == name) return &k;
  return nullptr;
}

}  // namespace fastopt
