// A landscape test function as a curvature::Objective, so that every second-order method runs on the
// built-in functions natively (their analytic gradient and Hessian, no Python per iteration).
#pragma once
#include "curvature/objective.hpp"
#include "landscape/function.hpp"

namespace fastopt::landscape {

class FunctionObjective final : public curvature::Objective {
 public:
  explicit FunctionObjective(const TestFunction& f) : Objective(f.dim()), f_(f) {}
  bool has_hessian() const override { return f_.dim() <= kMaxHessianEntries / f_.dim(); }

 protected:
  double evaluate(const double* x, double* g) override { return f_.evaluate(x, g); }
  void fill_hessian(const double* x, double* h) override { f_.hessian(x, h); }

 private:
  const TestFunction& f_;
};

}  // namespace fastopt::landscape
