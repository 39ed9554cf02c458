// A landscape test function as a curvature::Objective, and (for the sums of squares) as
// curvature::Residuals, so that every second-order method and Levenberg-Marquardt run on the built-in
// functions natively (their analytic derivatives, no Python per iteration).
#pragma once
#include "curvature/objective.hpp"
#include "landscape/function.hpp"

namespace fastopt::landscape {

class FunctionObjective final : public curvature::Objective {
 public:
  explicit FunctionObjective(const TestFunction& f) : Objective(f.dim()), f_(f) {}
  bool has_hessian() const override { return f_.dim() <= kMaxHessianEntries / f_.dim(); }
  bool has_hessp() const override { return true; }

 protected:
  double evaluate(const double* x, double* g) override { return f_.evaluate(x, g); }
  void fill_hessian(const double* x, double* h) override { f_.hessian(x, h); }
  void fill_hessp(const double* x, const double* p, double* out) override { f_.hessp(x, p, out); }

 private:
  const TestFunction& f_;
};

// r(x) with f = |r|^2 (so the least-squares cost 0.5 |r|^2 is f / 2).
class FunctionResiduals final : public curvature::Residuals {
 public:
  explicit FunctionResiduals(const TestFunction& f) : Residuals(f.dim(), f.residual_count()), f_(f) {}

 protected:
  void fill_residuals(const double* x, double* r) override { f_.residuals(x, r); }
  void fill_jacobian(const double* x, double* jac) override { f_.jacobian(x, jac); }

 private:
  const TestFunction& f_;
};

}  // namespace fastopt::landscape
