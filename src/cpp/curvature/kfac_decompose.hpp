// The factor decompositions K-FAC preconditions with, every inv_update_steps steps:
//   eigen           F = Q diag(d) Q^T by LAPACK's divide and conquer (ssyevd / dsyevd); Q's columns
//                   the eigenvectors (row-major), d ascending and clamped at 0 (as kfac-pytorch: a
//                   factor is PSD, negative eigenvalues are rounding).
//   damped_inverse  (F + shift I)^-1 by Cholesky (potrf, potri).
// Each matrix is one task (run_layer_tasks).  A task that fails (no convergence, not positive
// definite) reports its index; the outputs of the others are complete.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "curvature/lapack.hpp"
#include "curvature/layer_tasks.hpp"
#include "curvature/symmetric_eigen.hpp"

namespace fastopt::curvature {

// q[i] (n_i, n_i) <- eigenvectors, d[i] (n_i,) <- eigenvalues of factors[i].  Returns the index of a
// matrix whose decomposition failed, or -1.
template <class T>
int64_t eigen_decompose(const std::vector<const T*>& factors, const std::vector<T*>& q, const std::vector<T*>& d,
                        const std::vector<int64_t>& sizes) {
  std::atomic<int64_t> failed{-1};
  std::vector<double> flops;
  for (int64_t n : sizes) flops.push_back(9.0 * n * n * n);
  run_layer_tasks(flops, [&](int64_t i) {
    const int64_t n = sizes[i];
    if (!symmetric_eigenvectors(factors[i], q[i], d[i], n)) {
      failed = i;
      return;
    }
    for (int64_t j = 0; j < n; ++j) d[i][j] = std::max(d[i][j], T(0));
  });
  return failed;
}

// out[i] <- (factors[i] + shifts[i] I)^-1.  Returns the index of a matrix that was not positive
// definite after the shift, or -1.
template <class T>
int64_t damped_inverse(const std::vector<const T*>& factors, const std::vector<double>& shifts,
                       const std::vector<T*>& out, const std::vector<int64_t>& sizes) {
  std::atomic<int64_t> failed{-1};
  std::vector<double> flops;
  for (int64_t n : sizes) flops.push_back(static_cast<double>(n) * n * n);
  run_layer_tasks(flops, [&](int64_t i) {
    const int64_t n = sizes[i];
    std::copy(factors[i], factors[i] + n * n, out[i]);
    for (int64_t j = 0; j < n; ++j) out[i][j * n + j] += static_cast<T>(shifts[i]);
    if (!lapack::spd_inverse(out[i], n)) failed = i;
  });
  return failed;
}

}  // namespace fastopt::curvature
