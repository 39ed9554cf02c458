// The trajectory loop: any optimizer rule of src/cpp/optim stepping on a test function, entirely in
// C++.  The rule is the very one a fastopt optimizer runs (same Hyper, same step counter, same
// carried values), applied to one tensor of dim float64 elements, so a native path equals the path
// of a Python loop calling optimizer.step.
#pragma once
#include <cmath>
#include <vector>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "landscape/function.hpp"
#include "optim/lookahead.hpp"

namespace fastopt::landscape {

struct TrajectorySpec {
  const double* x0;           // dim
  int64_t steps;
  const double* lrs;          // steps: the learning rate of step t+1 (schedules applied)
  const double* noise;        // steps x dim, added to the gradient of step t+1; null for none
  const double* state_init;   // the initial value of each state slot
  int64_t lookahead_k;        // sync with Lookahead's slow weights every k steps; 0 for none
  double lookahead_alpha;
};

// Writes path (steps+1 x dim), losses (steps+1) and grad_norms (steps+1): the point, f and |grad f|
// (the true gradient, without noise) before the first step and after every step.
template <class Opt>
void run_trajectory(const TestFunction& f, Hyper hyper, const TrajectorySpec& spec, double* path, double* losses,
                    double* grad_norms) {
  const int n = f.dim();
  const int n_states = Opt::num_states(hyper);
  std::vector<double> x(spec.x0, spec.x0 + n), grad(n), noisy(n), slow(x);
  std::vector<std::vector<double>> states(n_states);
  TensorPtrs<double> tensor{x.data(), noisy.data(), {nullptr, nullptr, nullptr}, n};
  for (int k = 0; k < n_states; ++k) {
    states[k].assign(n, spec.state_init[k]);
    tensor.state[k] = states[k].data();
  }
  const std::vector<TensorPtrs<double>> tensors{tensor};
  const std::vector<TensorPtrs<double>> sync{{x.data(), nullptr, {slow.data(), nullptr, nullptr}, n}};
  Hyper lookahead;
  lookahead.set("alpha", spec.lookahead_alpha);

  auto record = [&](int64_t t) {
    losses[t] = f.evaluate(x.data(), grad.data());
    double sq = 0;
    for (int i = 0; i < n; ++i) {
      path[t * n + i] = x[i];
      sq += grad[i] * grad[i];
    }
    grad_norms[t] = std::sqrt(sq);
  };
  record(0);
  for (int64_t t = 1; t <= spec.steps; ++t) {
    for (int i = 0; i < n; ++i) noisy[i] = spec.noise ? grad[i] + spec.noise[(t - 1) * n + i] : grad[i];
    hyper.set("lr", spec.lrs[t - 1]);
    Opt::template step<double>(tensors, hyper, t);
    for (const auto& [key, value] : Opt::carry(hyper, t)) hyper.set(key, value);
    if (spec.lookahead_k > 0 && t % spec.lookahead_k == 0) Lookahead::step<double>(sync, lookahead, t / spec.lookahead_k);
    record(t);
  }
}

}  // namespace fastopt::landscape
