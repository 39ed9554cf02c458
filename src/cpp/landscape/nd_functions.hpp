// Test functions defined in any dimension n: Rosenbrock (chained, and extended: independent pairs),
// Rastrigin, Styblinski-Tang and an ill-conditioned quadratic.  Their domain and default start describe the first two coordinates and
// repeat the 2-D start pattern.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <stdexcept>
#include <string>

#include "common/parallel.hpp"
#include "landscape/function.hpp"

namespace fastopt::landscape {

// (a, b, a, b, ...) with n entries.
inline Point alternating(double a, double b, int64_t n) {
  Point p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i % 2 ? b : a;
  return p;
}

inline void zero_hessian(double* h, int64_t n) { std::fill(h, h + n * n, 0.0); }

// sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2: a curved valley, minimum 0 at (1, ..., 1).
struct Rosenbrock : TestFunction {
  explicit Rosenbrock(int64_t n) : TestFunction("rosenbrock", n) {
    minima = {Point(n, 1.0)};
    min_value = 0.0;
    domain = {-2, 2, -1, 3};
    start = alternating(-1.2, 1.0, n);
  }
  double evaluate(const double* x, double* g) const override {
    const int64_t n = dim();
    if (g) std::fill(g, g + n, 0.0);
    double f = 0;
    for (int64_t i = 0; i + 1 < n; ++i) {
      const double valley = x[i + 1] - x[i] * x[i], off = 1 - x[i];
      f += 100 * valley * valley + off * off;
      if (g) {
        g[i] += -400 * x[i] * valley - 2 * off;
        g[i + 1] += 200 * valley;
      }
    }
    return f;
  }
  void fill_hessian(const double* x, double* h) const override {
    const int64_t n = dim();
    zero_hessian(h, n);
    for (int64_t i = 0; i + 1 < n; ++i) {
      h[i * n + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
      h[i * n + i + 1] += -400 * x[i];
      h[(i + 1) * n + i] += -400 * x[i];
      h[(i + 1) * n + i + 1] += 200;
    }
  }
  // The Hessian is tridiagonal: O(n) products.
  void hessp(const double* x, const double* p, double* out) const override {
    const int64_t n = dim();
    std::fill(out, out + n, 0.0);
    for (int64_t i = 0; i + 1 < n; ++i) {
      const double diag = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2, off = -400 * x[i];
      out[i] += diag * p[i] + off * p[i + 1];
      out[i + 1] += off * p[i] + 200 * p[i + 1];
    }
  }
  // f = sum_i r_2i^2 + r_2i+1^2 with r_2i = 10 (x_i+1 - x_i^2), r_2i+1 = 1 - x_i.
  int64_t residual_count() const override { return 2 * (dim() - 1); }
  void residuals(const double* x, double* r) const override {
    for (int64_t i = 0; i + 1 < dim(); ++i) r[2 * i] = 10 * (x[i + 1] - x[i] * x[i]), r[2 * i + 1] = 1 - x[i];
  }
  void jacobian(const double* x, double* jac) const override {
    const int64_t n = dim();
    std::fill(jac, jac + residual_count() * n, 0.0);
    for (int64_t i = 0; i + 1 < n; ++i) {
      jac[2 * i * n + i] = -20 * x[i];
      jac[2 * i * n + i + 1] = 10;
      jac[(2 * i + 1) * n + i] = -1;
    }
  }
};

// The extended Rosenbrock function (More, Garbow & Hillstrom 1981, problem 21): n/2 independent 2-D
// Rosenbrock valleys,
//     f = sum_{i<n/2} 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2,
// minimum 0 at (1, ..., 1), from (-1.2, 1, -1.2, 1, ...); n even.  Its Hessian is block-diagonal
// (2 x 2 blocks).  Unlike the chained function its iteration count from that start does not grow
// with n, which makes it the large-n benchmark of L-BFGS: value and gradient in one threaded pass.
struct ExtendedRosenbrock : TestFunction {
  explicit ExtendedRosenbrock(int64_t n) : TestFunction("extended_rosenbrock", n) {
    if (n % 2) throw std::invalid_argument("dim: extended_rosenbrock needs an even dim (pairs), got " + std::to_string(n));
    minima = {Point(n, 1.0)};
    min_value = 0.0;
    domain = {-2, 2, -1, 3};
    start = alternating(-1.2, 1.0, n);
  }
  double evaluate(const double* x, double* g) const override { return g ? pass<true>(x, g) : pass<false>(x, g); }
  void fill_hessian(const double* x, double* h) const override {
    const int64_t n = dim();
    zero_hessian(h, n);
    for (int64_t i = 0; i < n; i += 2) {
      h[i * n + i] = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
      h[i * n + i + 1] = h[(i + 1) * n + i] = -400 * x[i];
      h[(i + 1) * n + i + 1] = 200;
    }
  }
  // The 2 x 2 blocks times p, pair by pair: O(n).
  void hessp(const double* x, const double* p, double* out) const override {
    for (int64_t i = 0; i < dim(); i += 2) {
      const double a = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2, b = -400 * x[i];
      out[i] = a * p[i] + b * p[i + 1];
      out[i + 1] = b * p[i] + 200 * p[i + 1];
    }
  }

 private:
  // One pass over the pairs; the gradient's branch is resolved at compile time, out of the loop.
  template <bool with_grad>
  double pass(const double* x, double* g) const {
    const int64_t pairs = dim() / 2;
    double f = 0;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) reduction(+ : f) num_threads(threads_for(pairs, kSerialBelowElements)) if (pairs >= kSerialBelowElements)
#endif
    for (int64_t i = 0; i < pairs; ++i) {
      const double u = x[2 * i], valley = x[2 * i + 1] - u * u, off = 1 - u;
      f += 100 * valley * valley + off * off;
      if constexpr (with_grad) {
        g[2 * i] = -400 * u * valley - 2 * off;
        g[2 * i + 1] = 200 * valley;
      }
    }
    return f;
  }
};

// 10 n + sum x_i^2 - 10 cos(2 pi x_i): a bowl covered in local minima near the integer points; minimum 0 at 0.
struct Rastrigin : TestFunction {
  static constexpr double A = 10, c = 2 * 3.14159265358979323846;
  explicit Rastrigin(int64_t n) : TestFunction("rastrigin", n) {
    minima = {Point(n, 0.0)};
    min_value = 0.0;
    domain = {-5.12, 5.12, -5.12, 5.12};
    start = alternating(2.2, -3.3, n);
  }
  double evaluate(const double* x, double* g) const override {
    double f = A * dim();
    for (int64_t i = 0; i < dim(); ++i) {
      f += x[i] * x[i] - A * std::cos(c * x[i]);
      if (g) g[i] = 2 * x[i] + A * c * std::sin(c * x[i]);
    }
    return f;
  }
  void fill_hessian(const double* x, double* h) const override {
    zero_hessian(h, dim());
    for (int64_t i = 0; i < dim(); ++i) h[i * dim() + i] = 2 + A * c * c * std::cos(c * x[i]);
  }
  void hessp(const double* x, const double* p, double* out) const override {
    for (int64_t i = 0; i < dim(); ++i) out[i] = (2 + A * c * c * std::cos(c * x[i])) * p[i];
  }
};

// (1/2) sum x_i^4 - 16 x_i^2 + 5 x_i: per coordinate a deep and a shallow well; the global minimum
// -39.166... n is at x_i = -2.9035..., the root of 4x^3 - 32x + 5 = 0.
struct StyblinskiTang : TestFunction {
  static constexpr double x_min = -2.9035340277711771, f_min_1d = -39.166165703771415;
  explicit StyblinskiTang(int64_t n) : TestFunction("styblinski_tang", n) {
    minima = {Point(n, x_min)};
    min_value = f_min_1d * n;
    domain = {-5, 5, -5, 5};
    start = alternating(-0.5, 4.5, n);
  }
  double evaluate(const double* x, double* g) const override {
    double f = 0;
    for (int64_t i = 0; i < dim(); ++i) {
      const double x2 = x[i] * x[i];
      f += 0.5 * (x2 * x2 - 16 * x2 + 5 * x[i]);
      if (g) g[i] = 2 * x2 * x[i] - 16 * x[i] + 2.5;
    }
    return f;
  }
  void fill_hessian(const double* x, double* h) const override {
    zero_hessian(h, dim());
    for (int64_t i = 0; i < dim(); ++i) h[i * dim() + i] = 6 * x[i] * x[i] - 16;
  }
  void hessp(const double* x, const double* p, double* out) const override {
    for (int64_t i = 0; i < dim(); ++i) out[i] = (6 * x[i] * x[i] - 16) * p[i];
  }
};

// (1/2) sum lambda_i x_i^2 with eigenvalues log-spaced from 1 to `condition` (1 and condition in 2-D):
// the ill-conditioned quadratic, minimum 0 at 0.  Its axes are the coordinate axes.
struct Quadratic : TestFunction {
  Point lambda;
  Quadratic(int64_t n, double condition) : TestFunction("quadratic", n), lambda(n, 1.0) {
    for (int64_t i = 0; i < n && n > 1; ++i) lambda[i] = std::pow(condition, static_cast<double>(i) / (n - 1));
    minima = {Point(n, 0.0)};
    min_value = 0.0;
    domain = {-2, 2, -2, 2};
    start = alternating(-1.8, 1.5, n);
  }
  double evaluate(const double* x, double* g) const override {
    double f = 0;
    for (int64_t i = 0; i < dim(); ++i) {
      f += 0.5 * lambda[i] * x[i] * x[i];
      if (g) g[i] = lambda[i] * x[i];
    }
    return f;
  }
  void fill_hessian(const double*, double* h) const override {
    zero_hessian(h, dim());
    for (int64_t i = 0; i < dim(); ++i) h[i * dim() + i] = lambda[i];
  }
  void hessp(const double*, const double* p, double* out) const override {
    for (int64_t i = 0; i < dim(); ++i) out[i] = (lambda[i]) * p[i];
  }
};

}  // namespace fastopt::landscape
