// What the second-order and quasi-Newton methods minimise: f: R^n -> R with its gradient, and where
// the method needs them its Hessian (dense, row-major) or Hessian-vector products.  Every method is
// written against this interface only; a built-in landscape function, the MNIST logistic regression
// and a Python callable (bindings/curvature.cpp) are three implementations of it.
//
// The counters follow scipy.optimize's names: nfev value evaluations, njev gradient evaluations,
// nhev Hessian evaluations and Hessian-vector products.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

class Objective {
 public:
  explicit Objective(int64_t dim) : dim_(dim) {}
  virtual ~Objective() = default;
  int64_t dim() const { return dim_; }

  // f(x), and the gradient into g[0..dim) when g is not null.
  double value_grad(const double* x, double* g) {
    ++nfev;
    if (g) ++njev;
    return evaluate(x, g);
  }
  // The dim x dim Hessian at x into h, row-major, every entry written.
  void hessian(const double* x, double* h) {
    if (!has_hessian()) throw std::invalid_argument("hess: this method needs the Hessian; the objective has none");
    ++nhev;
    fill_hessian(x, h);
  }
  // out = H(x) p.  Objectives with a dense Hessian get it by forming H (the small problems); the
  // others override fill_hessp with an exact product.
  void hessp(const double* x, const double* p, double* out) {
    if (!has_hessp()) throw std::invalid_argument("hessp: this method needs Hessian-vector products; the objective has none");
    ++nhev;
    fill_hessp(x, p, out);
  }
  virtual bool has_hessian() const { return false; }
  virtual bool has_hessp() const { return has_hessian(); }

  int64_t nfev = 0, njev = 0, nhev = 0;

 protected:
  virtual double evaluate(const double* x, double* g) = 0;
  virtual void fill_hessian(const double*, double*) {}
  virtual void fill_hessp(const double* x, const double* p, double* out);

 private:
  int64_t dim_;
};

// Residuals r: R^n -> R^m with their Jacobian, for least squares (f = 0.5 |r|^2).
class Residuals {
 public:
  Residuals(int64_t dim, int64_t count) : dim_(dim), count_(count) {}
  virtual ~Residuals() = default;
  int64_t dim() const { return dim_; }      // n
  int64_t count() const { return count_; }  // m

  void residuals(const double* x, double* r) {
    ++nfev;
    fill_residuals(x, r);
  }
  // The m x n Jacobian dr/dx at x into jac, row-major.
  void jacobian(const double* x, double* jac) {
    ++njev;
    fill_jacobian(x, jac);
  }
  int64_t nfev = 0, njev = 0;

 protected:
  virtual void fill_residuals(const double* x, double* r) = 0;
  virtual void fill_jacobian(const double* x, double* jac) = 0;

 private:
  int64_t dim_, count_;
};

inline void Objective::fill_hessp(const double* x, const double* p, double* out) {
  dense_hessp(dim_, [&](double* h) { fill_hessian(x, h); }, p, out);
}

}  // namespace fastopt::curvature
