// The part of a line-search method that differs between methods: where to search next.
//
// A Direction sees each accepted step (update) and proposes the next search direction (compute).
// L-BFGS, BFGS, nonlinear CG and the Newton variants each implement it in their own header; the
// iteration around it (line search, stopping rules, counts, path) is descent.hpp's, written once.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "curvature/objective.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

// One accepted step x -> x_new = x + t d, with s = x_new - x and y = g(x_new) - g(x).
struct Step {
  const double* s;
  const double* y;
  const double* g_new;
  const double* d;
  double t;
  int64_t n;
  double ys, yy;  // y.s and y.y, summed in the pass that forms s and y
};

// Where run_descent writes the next step's s and y (n doubles each); nulls: its own scratch.
struct StepBuffers {
  double* s = nullptr;
  double* y = nullptr;
};

// What the first trial step of a line search may depend on.
struct TrialContext {
  double lr;        // the user's step scale (torch.optim.LBFGS's lr; 1 in minimize)
  const double* g;  // the gradient at x, n entries
  int64_t n;
  double gtd;       // g . d < 0
  double decrease;  // f(previous x) - f(x), or NaN on the first iteration
};

// min(1, 1/|g|_1) lr: the first step of a direction that carries no length (torch's and minFunc's
// choice for the first L-BFGS iteration).
inline double steepest_trial(const TrialContext& c) { return std::min(1.0, 1.0 / norm1(c.g, c.n)) * c.lr; }

// The direction of a method that met NaN or Inf curvature: all NaN, which run_descent reports as
// Status::nonfinite.
inline void nan_direction(double* d, int64_t n) { std::fill(d, d + n, std::numeric_limits<double>::quiet_NaN()); }

// A state array or scalar of a method, by name, for checkpoints (state_dict) and inspection.
struct NamedArray {
  std::string name;
  std::vector<double>* values;
};
struct NamedScalar {
  std::string name;
  double* value;
};

class Direction {
 public:
  virtual ~Direction() = default;
  virtual const char* name() const = 0;
  // Forget the curvature gathered so far (the next direction is steepest descent or plain Newton).
  virtual void reset() = 0;
  // The search direction at x, where the gradient is g, into d (on entry: the previous direction,
  // which CG extends).
  virtual void compute(Objective& f, const double* x, const double* g, double* d) = 0;
  // Learn from an accepted step.
  virtual void update(const Step&) {}
  // Buffers for the next step's s and y, so that a method that keeps them (L-BFGS's history)
  // receives them without a copy; valid until the next update.
  virtual StepBuffers step_buffers(int64_t /*n*/) { return {}; }
  // The line search's first trial step for the direction just computed.  By default lr: d carries
  // its own length (Newton; quasi-Newton once past its first step).
  virtual double initial_step(const TrialContext& c) const { return c.lr; }
  virtual std::vector<NamedArray> arrays() { return {}; }
  virtual std::vector<NamedScalar> scalars() { return {}; }
};

}  // namespace fastopt::curvature
