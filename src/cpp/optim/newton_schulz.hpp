// Muon's quintic Newton-Schulz iteration (Jordan et al., 2024; torch.optim.Muon's coefficients), through
// the BLAS GEMM the MLP links.  For a matrix G (rows x cols) with rows <= cols (a tall one is transposed):
//   X_0 = G / max(||G||_F, eps)
//   A = X X^T;  B = b A + c A A;  X <- a X + B X          (ns_steps times)
// X converges towards U S' V^T with S' near 1: an approximate polar factor U V^T of G = U S V^T.
// The GEMMs run in the param's precision (torch casts to bfloat16, a GPU throughput choice).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/parallel.hpp"
#include "nn/blas.hpp"

namespace fastopt {

struct NewtonSchulzCoefficients {
  double a, b, c, eps;
  int64_t steps;
};

// C (m x n) = alpha * op(A) op(B) + beta * C, the m rows split into blocks across `threads` OpenMP threads
// (each block one single-threaded BLAS call, as the MLP's GEMMs run).
template <class T>
void gemm_rows(bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, int64_t ldb, T beta,
               T* c, int threads) {
  if (threads <= 1 || m < 2 * threads) return nn::gemm(false, trans_b, m, n, k, alpha, a, k, b, ldb, beta, c, n);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads)
#endif
  {
    const int64_t team = team_size(), me = thread_index();
    const int64_t begin = m * me / team, end = m * (me + 1) / team;
    nn::gemm(false, trans_b, end - begin, n, k, alpha, a + begin * k, k, b, ldb, beta, c + begin * n, n);
  }
}

// Work buffers of the iteration, grown to fit every matrix they serve (outside parallel regions).
template <class T>
struct NewtonSchulzWork {
  std::vector<T> x, next, gram, poly;
  void fit(int64_t rows, int64_t cols) {
    const size_t n = static_cast<size_t>(rows * cols), r = static_cast<size_t>(std::min(rows, cols));
    if (x.size() < n) x.resize(n), next.resize(n);
    if (gram.size() < r * r) gram.resize(r * r), poly.resize(r * r);
  }
};

// out (rows x cols, row-major) = NS(g); `threads` OpenMP threads share each GEMM's rows.
template <class T>
void newton_schulz(const T* g, int64_t rows, int64_t cols, const NewtonSchulzCoefficients& k, NewtonSchulzWork<T>& w,
                   T* out, int threads) {
  const bool tall = rows > cols;
  const int64_t r = tall ? cols : rows, c = tall ? rows : cols, n = r * c;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  const T norm = static_cast<T>(std::sqrt(sum));
  const T scale = T(1) / (norm > static_cast<T>(k.eps) ? norm : static_cast<T>(k.eps));
  T* x = w.x.data();
  if (tall) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) x[j * rows + i] = g[i * cols + j] * scale;
  } else {
    for (int64_t i = 0; i < n; ++i) x[i] = g[i] * scale;
  }
  T* next = w.next.data();
  for (int64_t s = 0; s < k.steps; ++s) {
    gemm_rows<T>(true, r, r, c, T(1), x, x, c, T(0), w.gram.data(), threads);  // A = X X^T
    std::copy(w.gram.data(), w.gram.data() + r * r, w.poly.data());
    gemm_rows<T>(false, r, r, r, static_cast<T>(k.c), w.gram.data(), w.gram.data(), r, static_cast<T>(k.b),
                 w.poly.data(), threads);  // B = b A + c A A
    std::copy(x, x + n, next);
    gemm_rows<T>(false, r, c, r, T(1), w.poly.data(), x, c, static_cast<T>(k.a), next, threads);  // X = a X + B X
    std::swap(x, next);
  }
  if (tall) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = x[j * rows + i];
  } else {
    std::copy(x, x + n, out);
  }
}

}  // namespace fastopt
