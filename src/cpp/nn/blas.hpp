// The GEMM the network runs on: scipy-openblas32's CBLAS (symbols prefixed "scipy_"), row-major.
//
// The network calls it from inside its own OpenMP region, each thread on its own block, so
// OpenBLAS runs single-threaded (set once in use_single_threaded_blas) and never competes with
// the OpenMP threads for the cores.
#pragma once
#include <cblas.h>

#include <cstdint>

namespace fastopt::nn {

// C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C; row-major, leading dimensions given.
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  scipy_cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                    static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                 int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  scipy_cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                    static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

inline void use_single_threaded_blas() { scipy_openblas_set_num_threads(1); }

inline const char* blas_config() { return scipy_openblas_get_config(); }

}  // namespace fastopt::nn
