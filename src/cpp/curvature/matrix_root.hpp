// Inverse p-th roots of symmetric positive semi-definite matrices, X = (A + epsilon I)^(-1/p), for
// Shampoo's preconditioners (p = 4 for a matrix's two sides: -1/(2k) for an order-k tensor), as
// Meta's distributed Shampoo computes them (matrix_functions.py), always in double:
//   eigen   A = Q diag(d) Q^T (syevd, symmetric_eigen.hpp); the eigenvalues shifted up by -min(d, 0)
//           when rounding made one negative, then X = Q diag((d + epsilon)^(-1/p)) Q^T.
//   newton  the coupled Newton iteration (Guo & Higham 2006; Anil et al. 2020): with A_e = A + eps I,
//           z = (p + 1) / (2 |A_e|_F),  X_0 = z^(1/p) I,  M_0 = z A_e,
//           M_p = ((p + 1) I - M_k) / p,  X_{k+1} = X_k M_p,  M_{k+1} = M_p^p M_k,
//           until max |M_k - I| <= tolerance or max_iterations; M_k -> I and X_k -> A_e^(-1/p).  Where
//           it diverges or stalls, the eigen method takes over (RootReport::fell_back).
// Every GEMM is single-threaded BLAS: the matrices are the tasks (run_layer_tasks).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "curvature/layer_tasks.hpp"
#include "curvature/symmetric_eigen.hpp"
#include "nn/blas.hpp"

namespace fastopt::curvature {

enum class RootMethod { eigen, newton };

// How one root went: ok false when the input was not finite or LAPACK did not converge (the output
// is then left as it was); for newton, the iterations run and the final max |M - I|, and whether it
// fell back to the eigen method (the iteration diverges where rounding left an eigenvalue of A + eps I
// negative, as float32 statistics with a tiny epsilon do, and stalls past max_iterations).
struct RootReport {
  bool ok = false;
  int64_t iterations = 0;
  double residual = 0.0;
  bool fell_back = false;
};

struct RootOptions {
  RootMethod method = RootMethod::eigen;
  int64_t root = 4;
  double epsilon = 1e-12;
  int64_t max_iterations = 100;
  double tolerance = 1e-10;
};

namespace detail {

// w (n, n) <- a (n, n) b (n, n), in double.
inline void square_product(const double* a, const double* b, double* w, int64_t n) {
  nn::gemm(false, false, n, n, n, 1.0, a, n, b, n, 0.0, w, n);
}

// x <- (a + epsilon I)^(-1/p) by eigen-decomposition; work: 2 n^2 + n doubles.
inline bool root_eigen(double* a, double* x, int64_t n, const RootOptions& o, double* work) {
  double* q = work;
  double* d = work + n * n;
  double* scaled = d + n;
  if (!symmetric_eigenvectors(a, q, d, n)) return false;
  const double shift = -std::min(d[0], 0.0);  // d ascending: d[0] the least
  for (int64_t j = 0; j < n; ++j) d[j] = std::pow(d[j] + shift + o.epsilon, -1.0 / static_cast<double>(o.root));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) scaled[i * n + j] = q[i * n + j] * d[j];
  nn::gemm(false, true, n, n, n, 1.0, scaled, n, q, n, 0.0, x, n);  // Q diag Q^T
  return true;
}

// x <- (a + epsilon I)^(-1/p) by the coupled Newton iteration; work: 3 n^2 doubles.
inline RootReport root_newton(double* a, double* x, int64_t n, const RootOptions& o, double* work) {
  double* m = a;  // M overwrites A
  double* mp = work;
  double* w1 = work + n * n;
  double* w2 = w1 + n * n;
  const double p = static_cast<double>(o.root);
  double norm = 0.0;
  for (int64_t i = 0; i < n; ++i) m[i * n + i] += o.epsilon;
  for (int64_t i = 0; i < n * n; ++i) norm += m[i] * m[i];
  const double z = (p + 1.0) / (2.0 * std::sqrt(norm));
  std::fill(x, x + n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) x[i * n + i] = std::pow(z, 1.0 / p);
  for (int64_t i = 0; i < n * n; ++i) m[i] *= z;
  auto residual = [&] {
    double r = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double e = std::abs(m[i * n + j] - (i == j ? 1.0 : 0.0));
        if (!(e <= r)) r = e;  // a NaN propagates (std::max would drop it)
      }
    return r;
  };
  RootReport report{true, 0, residual()};
  while (report.residual > o.tolerance && report.iterations < o.max_iterations) {
    for (int64_t i = 0; i < n * n; ++i) mp[i] = -m[i] / p;
    for (int64_t i = 0; i < n; ++i) mp[i * n + i] += (p + 1.0) / p;
    square_product(x, mp, w1, n);  // X <- X M_p
    std::copy(w1, w1 + n * n, x);
    // M <- M_p^p M through the binary expansion of p: base = M_p^(2^j), applied where p's bit j is set
    double* base = mp;
    double* spare = w1;
    for (int64_t e = o.root; e > 0; e >>= 1) {
      if (e & 1) {
        square_product(base, m, w2, n);
        std::copy(w2, w2 + n * n, m);
      }
      if (e > 1) {
        square_product(base, base, spare, n);
        std::swap(base, spare);
      }
    }
    report.iterations += 1;
    report.residual = residual();
    if (!std::isfinite(report.residual)) return {false, report.iterations, report.residual};
  }
  for (int64_t i = 0; i < n; ++i)  // X is a polynomial in A: symmetric but for rounding
    for (int64_t j = i + 1; j < n; ++j) x[i * n + j] = x[j * n + i] = 0.5 * (x[i * n + j] + x[j * n + i]);
  return report;
}

}  // namespace detail

// out[i] <- (mats[i] + epsilon I)^(-1/root); reports[i] says how it went (out[i] untouched unless ok).
template <class T>
void inverse_roots(const std::vector<const T*>& mats, const std::vector<T*>& out, const std::vector<int64_t>& sizes,
                   const RootOptions& o, std::vector<RootReport>& reports) {
  const int64_t count = static_cast<int64_t>(mats.size());
  reports.assign(count, RootReport{});
  std::vector<std::vector<double>> buffers(count);  // allocated here: nothing may throw inside the region
  std::vector<double> flops;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t n = sizes[i];
    buffers[i].resize(5 * n * n + n);
    flops.push_back((o.method == RootMethod::eigen ? 11.0 : 2.0 * 4 * 20) * n * n * n);
  }
  run_layer_tasks(flops, [&](int64_t i) {
    const int64_t n = sizes[i];
    double* a = buffers[i].data();
    double* x = a + n * n;
    double* work = x + n * n;
    bool finite = true;
    for (int64_t k = 0; k < n * n; ++k) {
      a[k] = static_cast<double>(mats[i][k]);
      finite = finite && std::isfinite(a[k]);
    }
    if (!finite) return;
    RootReport r{true, 0, 0.0};
    if (o.method == RootMethod::newton) {
      r = detail::root_newton(a, x, n, o, work);
      r.fell_back = !r.ok || !(r.residual <= o.tolerance);
      for (int64_t k = 0; !r.fell_back && k < n * n; ++k) r.fell_back = !std::isfinite(x[k]);
      if (r.fell_back)  // a was overwritten by the iteration: copy it again
        for (int64_t k = 0; k < n * n; ++k) a[k] = static_cast<double>(mats[i][k]);
    }
    if (o.method == RootMethod::eigen || r.fell_back) r.ok = detail::root_eigen(a, x, n, o, work);
    for (int64_t k = 0; r.ok && k < n * n; ++k) r.ok = std::isfinite(x[k]);
    if (r.ok)
      for (int64_t k = 0; k < n * n; ++k) out[i][k] = static_cast<T>(x[k]);
    reports[i] = r;
  });
}

}  // namespace fastopt::curvature
