// The dense-Hessian Newton directions: Newton with a Hessian modification, and saddle-free Newton.
//
// Newton with a multiple of the identity added (Nocedal & Wright 2006, Algorithm 3.3):
//     d = -(H + tau I)^-1 g,   tau the first of tau_0, tau_1, ... for which H + tau I has a Cholesky factor
//     tau_0 = 0 if min_i H_ii > 0, else beta - min_i H_ii;   tau_k+1 = max(2 tau_k, beta);   beta = 1e-3
// Where H is positive definite this is the Newton step; elsewhere H + tau I is positive definite and d
// a descent direction, which tilts towards -g as tau grows.
//
// Saddle-free Newton (Dauphin, Pascanu, Gulcehre, Cho, Ganguli & Bengio 2014, "Identifying and
// attacking the saddle point problem in high-dimensional non-convex optimization"):
//     H = V Lambda V^T,   d = -V |Lambda|^-1 V^T g,   |lambda_i| floored at `damping`
// the Newton step with each negative-curvature direction turned around: it moves away from a saddle
// along the directions where Newton moves towards it, and equals Newton where H is positive definite.
//
// Both need the dense Hessian (O(n^2) memory, O(n^3) work per step, LAPACK) and take the line
// search's first trial step 1, the full Newton step.  A Hessian with NaN or Inf entries gives a NaN
// direction, which run_descent turns into Status::nonfinite.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/lapack.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

// The Hessian at x into h (resized to n x n); false if any entry is NaN or Inf.
inline bool dense_hessian(Objective& f, const double* x, std::vector<double>& h) {
  const int64_t n = f.dim();
  h.resize(static_cast<size_t>(n * n));
  f.hessian(x, h.data());
  return all_finite(h.data(), n * n);
}

class ModifiedNewton : public Direction {
 public:
  static constexpr double kBeta = 1e-3;
  const char* name() const override { return "newton"; }
  void reset() override {}
  // The shift tau of the last direction (0 where H was positive definite).
  double shift() const { return shift_; }

  void compute(Objective& f, const double* x, const double* g, double* d) override {
    const int64_t n = f.dim();
    if (!dense_hessian(f, x, h_)) return nan_direction(d, n);
    double min_diag = h_[0];
    for (int64_t i = 1; i < n; ++i) min_diag = std::min(min_diag, h_[i * n + i]);
    double tau = min_diag > 0 ? 0 : kBeta - min_diag;
    factor_.resize(h_.size());
    for (;;) {
      std::copy(h_.begin(), h_.end(), factor_.begin());
      for (int64_t i = 0; i < n; ++i) factor_[i * n + i] += tau;
      if (lapack::cholesky(factor_.data(), n)) break;
      tau = std::max(2 * tau, kBeta);
      if (!std::isfinite(tau)) return nan_direction(d, n);  // only an overflowing H gets here
    }
    shift_ = tau;
    for_each_index(n, [=](int64_t i) { d[i] = -g[i]; });
    lapack::cholesky_solve(factor_.data(), d, n);
  }

 private:
  std::vector<double> h_, factor_;
  double shift_ = 0;
};

class SaddleFreeNewton : public Direction {
 public:
  explicit SaddleFreeNewton(double damping) : damping_(damping) {}
  const char* name() const override { return "saddle-free-newton"; }
  void reset() override {}

  void compute(Objective& f, const double* x, const double* g, double* d) override {
    const int64_t n = f.dim();
    eigenvalues_.resize(n);
    if (!dense_hessian(f, x, h_) || !lapack::symmetric_eigen(h_.data(), eigenvalues_.data(), n)) return nan_direction(d, n);
    // Rows of h_ are now the eigenvectors: c = V^T g is h_ g; d = -V (c / |lambda|) is -h_^T (...).
    coefficients_.resize(n);
    lapack::matvec(false, h_.data(), n, n, g, coefficients_.data());
    for (int64_t j = 0; j < n; ++j) coefficients_[j] /= -std::max(std::fabs(eigenvalues_[j]), damping_);
    lapack::matvec(true, h_.data(), n, n, coefficients_.data(), d);
  }

 private:
  double damping_;
  std::vector<double> h_, eigenvalues_, coefficients_;
};

}  // namespace fastopt::curvature
