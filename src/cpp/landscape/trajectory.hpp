// The trajectory loop: an optimizer's rules stepping on a test function, entirely in C++.  A stage is
// one rule of src/cpp/optim (the very one a fastopt optimizer runs: same Hyper, same step counter,
// same carried values) applied every `every` steps to one tensor of dim float64 elements; an
// optimizer is one stage, a wrapper such as Lookahead adds its own.  So a native path equals the
// path of a Python loop calling optimizer.step.
#pragma once
#include <cmath>
#include <optional>
#include <vector>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "landscape/function.hpp"
#include "optim/all.hpp"

namespace fastopt::landscape {

struct Stage {
  const Kernel* kernel;
  Hyper hyper;    // the group's hyperparameters and carried values; "lr" is set per step from the schedule
  int64_t every;  // made at steps every, 2*every, ..., as its own step 1, 2, ...
};

struct TrajectorySpec {
  const double* x0;     // dim
  int64_t steps;
  const double* lrs;    // steps: the learning rate of step t+1 (schedules applied)
  const double* noise;  // steps x dim, added to the gradient of step t+1; null for none
};

// Writes path (steps+1 x dim), losses (steps+1) and grad_norms (steps+1): the point, f and |grad f|
// (the true gradient, without noise) before the first step and after every step.
inline void run_trajectory(const TestFunction& f, std::vector<Stage> stages, const TrajectorySpec& spec, double* path,
                           double* losses, double* grad_norms) {
  const int64_t n = f.dim();
  std::vector<double> x(spec.x0, spec.x0 + n), grad(n), noisy(n);
  // Each stage's state arrays, created as a fastopt optimizer creates them before its first step.
  std::vector<std::vector<std::vector<double>>> states(stages.size());
  std::vector<std::vector<TensorPtrs<double>>> tensors(stages.size());
  for (size_t s = 0; s < stages.size(); ++s) {
    const Spec& sp = *stages[s].kernel->spec;
    TensorPtrs<double> tensor{x.data(), sp.reads_grad ? noisy.data() : nullptr, {}, n};
    const auto slots = sp.active_slots(stages[s].hyper);
    states[s].resize(slots.size());
    for (size_t k = 0; k < slots.size(); ++k) {
      const std::optional<double> init = sp.initial_value(*slots[k], stages[s].hyper);
      if (init) states[s][k].assign(n, *init);
      else states[s][k] = x;
      tensor.state[k] = states[s][k].data();
    }
    tensors[s] = {tensor};
  }
  auto record = [&](int64_t t) {
    losses[t] = f.evaluate(x.data(), grad.data());
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      path[t * n + i] = x[i];
      sq += grad[i] * grad[i];
    }
    grad_norms[t] = std::sqrt(sq);
  };
  record(0);
  for (int64_t t = 1; t <= spec.steps; ++t) {
    for (int64_t i = 0; i < n; ++i) noisy[i] = spec.noise ? grad[i] + spec.noise[(t - 1) * n + i] : grad[i];
    for (size_t s = 0; s < stages.size(); ++s) {
      Stage& stage = stages[s];
      if (t % stage.every != 0) continue;
      if (stage.hyper.has("lr")) stage.hyper.set("lr", spec.lrs[t - 1]);
      const int64_t own_step = t / stage.every;
      for (const auto& [key, value] : stage.kernel->step({}, tensors[s], stage.hyper, own_step))
        stage.hyper.set(key, value);
    }
    record(t);
  }
}

}  // namespace fastopt::landscape
