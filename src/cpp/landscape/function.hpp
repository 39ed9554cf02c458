// The interface every landscape test function implements: value, analytic gradient and Hessian in
// float64, plus what a plot needs to know about it (global minima, plot domain, a default start).
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "curvature/vector_ops.hpp"

namespace fastopt::landscape {

using Point = std::vector<double>;

// Dense Hessians are refused above this many entries: 2^28 float64 = 2 GiB, dim <= 16384.  Beyond
// that a dense matrix is the wrong tool (and dim 46341 would already need 16 GiB).
constexpr int64_t kMaxHessianEntries = int64_t(1) << 28;

// The plotted rectangle (for n-dimensional functions: of the first two coordinates).
struct Domain {
  double x_min, x_max, y_min, y_max;
};

class TestFunction {
 public:
  TestFunction(std::string name, int64_t dim) : name_(std::move(name)), dim_(dim) {}
  virtual ~TestFunction() = default;

  const std::string& name() const { return name_; }
  int64_t dim() const { return dim_; }

  // f(x); also writes the gradient into grad[0..dim) when grad is not null (value and gradient
  // share subexpressions, and a trajectory step needs both).
  virtual double evaluate(const double* x, double* grad) const = 0;
  // The dim x dim Hessian into h, row-major, every entry written; std::invalid_argument (ValueError),
  // before anything is written, above kMaxHessianEntries.
  void hessian(const double* x, double* h) const {
    check_dense_hessian();
    fill_hessian(x, h);
  }

  void check_dense_hessian() const {
    if (dim_ <= kMaxHessianEntries / dim_) return;
    char gib[32];
    std::snprintf(gib, sizeof gib, "%.1f", static_cast<double>(dim_) * static_cast<double>(dim_) * 8 / (1 << 30));
    throw std::invalid_argument("hessian: " + name_ + " at dim=" + std::to_string(dim_) + " has a " +
                                std::to_string(dim_) + " x " + std::to_string(dim_) + " Hessian, " + gib +
                                " GiB of float64; dense Hessians are limited to 2^28 entries (2 GiB, dim <= 16384)");
  }

  // H(x) p into out: through the dense Hessian here; the n-dimensional functions override it with an
  // O(n) product, so Hessian-free methods (newton-cg, trust-ncg) run on them at any dim.
  virtual void hessp(const double* x, const double* p, double* out) const {
    check_dense_hessian();  // before the dim x dim allocation
    curvature::dense_hessp(dim_, [&](double* h) { fill_hessian(x, h); }, p, out);
  }

  // The least-squares form f = |r(x)|^2 of the functions that are sums of squares (Levenberg-Marquardt
  // runs on it): the number m of residuals (0: not a sum of squares), r into r[0..m), and the m x dim
  // Jacobian dr/dx into jac, row-major.
  virtual int64_t residual_count() const { return 0; }
  bool has_residuals() const { return residual_count() > 0; }
  virtual void residuals(const double*, double*) const { no_residuals(); }
  virtual void jacobian(const double*, double*) const { no_residuals(); }
  void no_residuals() const { throw std::invalid_argument("residuals: " + name_ + " is not a sum of squares"); }

  // Global minima (empty for functions unbounded below, like the saddles) and the minimum value
  // (none for those).
  std::vector<Point> minima;
  std::optional<double> min_value;
  Domain domain{-2, 2, -2, 2};
  Point start;

 private:
  virtual void fill_hessian(const double* x, double* h) const = 0;

  std::string name_;
  int64_t dim_;
};

}  // namespace fastopt::landscape
