// The dense linear algebra of the Newton family and Levenberg-Marquardt, through the BLAS/LAPACK
// fastopt already links (scipy-openblas32: symbols prefixed "scipy_", 32-bit integers; LAPACKE's C
// interface).  Matrices are row-major.  The LAPACK calls only ever see symmetric matrices, which read
// the same in row- and column-major order, so they are passed as column-major with the triangle
// swapped ('U' column-major is the lower triangle row-major): no transposed copies.
#pragma once
#include <cblas.h>
#include <lapacke.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace fastopt::curvature::lapack {

inline void check_info(lapack_int info, const char* routine) {
  if (info < 0) throw std::logic_error(std::string(routine) + ": argument " + std::to_string(-info) + " is invalid");
}

// a = L L^T in place (the lower triangle, row-major, holds L; the other is left as it was).  Returns
// false when a is not positive definite (dpotrf's info > 0), the test Newton's modification runs on.
inline bool cholesky(double* a, int64_t n) {
  const lapack_int info = scipy_LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n), a, static_cast<lapack_int>(n));
  check_info(info, "dpotrf");
  return info == 0;
}

// b <- A^-1 b, with A's factor from cholesky().
inline void cholesky_solve(const double* factor, double* b, int64_t n) {
  const auto ni = static_cast<lapack_int>(n);
  check_info(scipy_LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', ni, 1, factor, ni, b, ni), "dpotrs");
}

// A = V diag(w) V^T for symmetric A (divide and conquer, dsyevd): w ascending; on return row j of a
// is the unit eigenvector of w[j].  Returns false when the iteration did not converge.
inline bool symmetric_eigen(double* a, double* w, int64_t n) {
  const lapack_int info =
      scipy_LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', static_cast<lapack_int>(n), a, static_cast<lapack_int>(n), w);
  check_info(info, "dsyevd");
  return info == 0;
}

// out = A x for an m x n row-major A, or A^T x with transpose (x of m entries, out of n).
inline void matvec(bool transpose, const double* a, int64_t m, int64_t n, const double* x, double* out) {
  scipy_cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
                    1.0, a, static_cast<blasint>(n), x, 1, 0.0, out, 1);
}

// out = J^T J (n x n, both triangles) for an m x n row-major J: the Gauss-Newton matrix.
inline void gram(const double* jac, int64_t m, int64_t n, double* out) {
  scipy_cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(m), 1.0, jac,
                    static_cast<blasint>(n), 0.0, out, static_cast<blasint>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) out[i * n + j] = out[j * n + i];
}

// The K-FAC family's factor work, for float and double (the network's dtypes).

// C (n, n) = alpha A^T A + beta C for a row-major A (k, n) with leading dimension lda; only C's
// upper triangle (row-major) is written: the Gram matrix of A's rows, by SYRK.  With rows_outer =
// false, C = alpha A A^T + beta C for a row-major A (n, k) instead (Shampoo's left statistic G G^T).
inline void gram_update(int64_t n, int64_t k, double alpha, const float* a, int64_t lda, double beta, float* c,
                        bool rows_outer = true) {
  scipy_cblas_ssyrk(CblasRowMajor, CblasUpper, rows_outer ? CblasTrans : CblasNoTrans, static_cast<blasint>(n),
                    static_cast<blasint>(k), static_cast<float>(alpha), a, static_cast<blasint>(lda),
                    static_cast<float>(beta), c, static_cast<blasint>(n));
}
inline void gram_update(int64_t n, int64_t k, double alpha, const double* a, int64_t lda, double beta, double* c,
                        bool rows_outer = true) {
  scipy_cblas_dsyrk(CblasRowMajor, CblasUpper, rows_outer ? CblasTrans : CblasNoTrans, static_cast<blasint>(n),
                    static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), beta, c, static_cast<blasint>(n));
}

// symmetric_eigen for float (ssyevd): w ascending, row j of a the unit eigenvector of w[j].
inline bool symmetric_eigen(float* a, float* w, int64_t n) {
  const lapack_int info =
      scipy_LAPACKE_ssyevd(LAPACK_COL_MAJOR, 'V', 'U', static_cast<lapack_int>(n), a, static_cast<lapack_int>(n), w);
  check_info(info, "ssyevd");
  return info == 0;
}

// a <- a^-1 in place for a symmetric positive definite a (Cholesky: potrf then potri; both
// triangles filled).  Returns false, a spoiled, when a is not positive definite.
template <class T>
bool spd_inverse(T* a, int64_t n) {
  const auto ni = static_cast<lapack_int>(n);
  lapack_int info;
  if constexpr (sizeof(T) == sizeof(float)) {
    info = scipy_LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', ni, a, ni);
    check_info(info, "spotrf");
    if (info == 0) check_info(info = scipy_LAPACKE_spotri(LAPACK_COL_MAJOR, 'U', ni, a, ni), "spotri");
  } else {
    info = scipy_LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', ni, a, ni);
    check_info(info, "dpotrf");
    if (info == 0) check_info(info = scipy_LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', ni, a, ni), "dpotri");
  }
  if (info != 0) return false;
  for (int64_t i = 0; i < n; ++i)  // column-major 'U' is row-major lower: mirror it to the upper
    for (int64_t j = 0; j < i; ++j) a[j * n + i] = a[i * n + j];
  return true;
}

// a (n, n) <- Q of a = Q R (Householder: geqrf then orgqr; column-major, so a holds the transpose
// of the row-major matrix while LAPACK works on it).  tau: n entries of workspace.  Returns false
// when LAPACK could not allocate its workspace.
template <class T>
bool qr_orthonormal(T* a, T* tau, int64_t n) {
  const auto ni = static_cast<lapack_int>(n);
  for (int64_t i = 0; i < n; ++i)  // row-major -> column-major
    for (int64_t j = i + 1; j < n; ++j) std::swap(a[i * n + j], a[j * n + i]);
  lapack_int info;
  if constexpr (sizeof(T) == sizeof(float)) {
    check_info(info = scipy_LAPACKE_sgeqrf(LAPACK_COL_MAJOR, ni, ni, a, ni, tau), "sgeqrf");
    if (info == 0) check_info(info = scipy_LAPACKE_sorgqr(LAPACK_COL_MAJOR, ni, ni, ni, a, ni, tau), "sorgqr");
  } else {
    check_info(info = scipy_LAPACKE_dgeqrf(LAPACK_COL_MAJOR, ni, ni, a, ni, tau), "dgeqrf");
    if (info == 0) check_info(info = scipy_LAPACKE_dorgqr(LAPACK_COL_MAJOR, ni, ni, ni, a, ni, tau), "dorgqr");
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) std::swap(a[i * n + j], a[j * n + i]);
  return info == 0;
}

}  // namespace fastopt::curvature::lapack
