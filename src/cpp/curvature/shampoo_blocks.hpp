// The matrix work of Shampoo (Gupta et al. 2018) and SOAP (Vyas et al. 2024) over a list of blocks:
// each block is one matrix G (m, n) of a layer's gradient [dW, db] (or a piece of it, when a side is
// longer than max_preconditioner_dim), with its left (m, m) and right (n, n) statistics.
//   update_statistics  L <- beta L + alpha G G^T,  R <- beta R + alpha G^T G     (SYRK, 2 tasks a block)
//   sandwich           out = op(A) G op(B), op = identity or transpose           (2 GEMMs a block)
//                      Shampoo: L^-1/4 G R^-1/4; SOAP: Q_L^T G Q_R and back, Q_L G Q_R^T.
//   eigenbasis         Q <- the eigenvectors of S, by decreasing eigenvalue      (syevd)
//   power_qr_basis     SOAP's refresh: order Q's columns by decreasing q^T S q, then Q <- qr(S Q)
// Blocks are the tasks (run_layer_tasks); a big block's sandwich is also cut by rows, as K-FAC's
// preconditioning is, so one large layer still uses every thread.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <vector>

#include "common/parallel.hpp"
#include "curvature/kfac_factors.hpp"
#include "curvature/lapack.hpp"
#include "curvature/layer_tasks.hpp"
#include "curvature/symmetric_eigen.hpp"
#include "nn/blas.hpp"
#include "nn/layout.hpp"

namespace fastopt::curvature {

struct BlockShape {
  int64_t rows, cols;
};

// left[i] (m, m), right[i] (n, n) updated in place from grads[i] (m, n).
template <class T>
void update_statistics(const std::vector<BlockShape>& shapes, const std::vector<const T*>& grads,
                       const std::vector<T*>& left, const std::vector<T*>& right, double alpha, double beta) {
  std::vector<double> flops;
  for (const BlockShape& s : shapes) {
    flops.push_back(static_cast<double>(s.rows) * s.rows * s.cols);
    flops.push_back(static_cast<double>(s.cols) * s.cols * s.rows);
  }
  run_layer_tasks(flops, [&](int64_t task) {
    const int64_t b = task / 2;
    const auto [m, n] = shapes[b];
    if (task % 2 == 0) {  // G G^T: the Gram matrix of G's rows
      lapack::gram_update(m, n, alpha, grads[b], n, beta, left[b], false);
      mirror_upper(left[b], m);
    } else {              // G^T G
      lapack::gram_update(n, m, alpha, grads[b], n, beta, right[b], true);
      mirror_upper(right[b], n);
    }
  });
}

// out[i] (m, n) = op(a[i]) (m, m) grads[i] (m, n) op(b[i]) (n, n); out must not alias grads.
template <class T>
void sandwich(const std::vector<BlockShape>& shapes, const std::vector<const T*>& a, const std::vector<const T*>& grads,
              const std::vector<const T*>& b, const std::vector<T*>& out, bool transpose_a, bool transpose_b) {
  struct Piece {
    int64_t block, r0, r1;
  };
  std::vector<Piece> pieces;
  std::vector<double> flops;
  const int64_t parts = std::max<int64_t>(1, num_threads());
  for (int64_t k = 0; k < static_cast<int64_t>(shapes.size()); ++k) {
    const auto [m, n] = shapes[k];
    const double per_row = 2.0 * n * static_cast<double>(m + n);
    const int64_t count = per_row * m < kSerialBelowTaskFlops ? 1 : std::min(parts, m);
    for (int64_t j = 0; j < count; ++j) {
      const nn::Range r = nn::share(m, count, j);
      pieces.push_back({k, r.begin, r.end});
      flops.push_back(per_row * static_cast<double>(r.end - r.begin));
    }
  }
  std::vector<std::vector<T>> half(shapes.size());  // G op(B), allocated here: nothing may throw inside
  for (size_t k = 0; k < shapes.size(); ++k) half[k].resize(shapes[k].rows * shapes[k].cols);
  run_layer_tasks(flops, [&](int64_t j) {  // rows [r0, r1) of G op(B)
    const auto [k, r0, r1] = pieces[j];
    const int64_t n = shapes[k].cols;
    nn::gemm(false, transpose_b, r1 - r0, n, n, T(1), grads[k] + r0 * n, n, b[k], n, T(0), half[k].data() + r0 * n, n);
  });
  run_layer_tasks(flops, [&](int64_t j) {  // rows [r0, r1) of op(A) (G op(B))
    const auto [k, r0, r1] = pieces[j];
    const auto [m, n] = shapes[k];
    const T* rows_of_a = transpose_a ? a[k] + r0 : a[k] + r0 * m;  // op(A)[r0:r1, :]
    nn::gemm(transpose_a, false, r1 - r0, n, m, T(1), rows_of_a, m, half[k].data(), n, T(0), out[k] + r0 * n, n);
  });
}

// q[i] (n, n) <- the eigenvectors of stats[i] in its columns, by decreasing eigenvalue (SOAP's order).
// Returns the index of a matrix whose decomposition failed (its q left as it was), or -1.
template <class T>
int64_t eigenbasis(const std::vector<const T*>& stats, const std::vector<T*>& q, const std::vector<int64_t>& sizes) {
  std::atomic<int64_t> failed{-1};
  std::vector<std::vector<T>> work(stats.size());
  std::vector<double> flops;
  for (size_t i = 0; i < stats.size(); ++i) {
    work[i].resize(sizes[i] * sizes[i] + sizes[i]);
    flops.push_back(9.0 * sizes[i] * sizes[i] * sizes[i]);
  }
  run_layer_tasks(flops, [&](int64_t i) {
    const int64_t n = sizes[i];
    T* vectors = work[i].data();
    if (!symmetric_eigenvectors(stats[i], vectors, vectors + n * n, n)) {
      failed = i;
      return;
    }
    for (int64_t r = 0; r < n; ++r)  // ascending -> descending: reverse the columns
      for (int64_t c = 0; c < n; ++c) q[i][r * n + c] = vectors[r * n + (n - 1 - c)];
  });
  return failed;
}

// SOAP's basis refresh (one power iteration, then QR): with e_j = q_j^T S q_j the estimated
// eigenvalues, order[i] <- the permutation sorting them decreasingly (stable), then
// q[i] <- Q of qr(S Q[:, order]).  Returns the index of a block whose QR failed, or -1.
template <class T>
int64_t power_qr_basis(const std::vector<const T*>& stats, const std::vector<T*>& q, const std::vector<int64_t*>& order,
                       const std::vector<int64_t>& sizes) {
  std::atomic<int64_t> failed{-1};
  std::vector<std::vector<T>> work(stats.size());
  std::vector<std::vector<double>> estimates(stats.size());
  std::vector<double> flops;
  for (size_t i = 0; i < stats.size(); ++i) {
    work[i].resize(2 * sizes[i] * sizes[i] + sizes[i]);
    estimates[i].resize(sizes[i]);
    flops.push_back(6.0 * sizes[i] * sizes[i] * sizes[i]);
  }
  run_layer_tasks(flops, [&](int64_t i) {
    const int64_t n = sizes[i];
    T* sq = work[i].data();   // S Q
    T* out = sq + n * n;      // (S Q)[:, order], then its Q factor
    T* tau = out + n * n;
    nn::gemm(false, false, n, n, n, T(1), stats[i], n, q[i], n, T(0), sq, n);
    std::vector<double>& e = estimates[i];
    std::fill(e.begin(), e.end(), 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < n; ++c) e[c] += static_cast<double>(q[i][r * n + c]) * sq[r * n + c];
    std::iota(order[i], order[i] + n, int64_t(0));
    std::stable_sort(order[i], order[i] + n, [&](int64_t x, int64_t y) { return e[x] > e[y]; });
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < n; ++c) out[r * n + c] = sq[r * n + order[i][c]];
    if (!lapack::qr_orthonormal(out, tau, n)) {
      failed = i;
      return;
    }
    std::copy(out, out + n * n, q[i]);
  });
  return failed;
}

}  // namespace fastopt::curvature
