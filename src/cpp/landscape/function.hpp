// The interface every landscape test function implements: value, analytic gradient and Hessian in
// float64, plus what a plot needs to know about it (global minima, plot domain, a default start).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace fastopt::landscape {

using Point = std::vector<double>;

// The plotted rectangle (for n-dimensional functions: of the first two coordinates).
struct Domain {
  double x_min, x_max, y_min, y_max;
};

class TestFunction {
 public:
  TestFunction(std::string name, int dim) : name_(std::move(name)), dim_(dim) {}
  virtual ~TestFunction() = default;

  const std::string& name() const { return name_; }
  int dim() const { return dim_; }

  // f(x); also writes the gradient into grad[0..dim) when grad is not null (value and gradient
  // share subexpressions, and a trajectory step needs both).
  virtual double evaluate(const double* x, double* grad) const = 0;
  // The dim x dim Hessian, row-major, every entry written.
  virtual void hessian(const double* x, double* h) const = 0;

  // Global minima (empty for functions unbounded below, like the saddles) and the minimum value
  // (none for those).
  std::vector<Point> minima;
  std::optional<double> min_value;
  Domain domain{-2, 2, -2, 2};
  Point start;

 private:
  std::string name_;
  int dim_;
};

}  // namespace fastopt::landscape
