// The vector arithmetic the methods do on n-dimensional iterates: dot products, norms and axpys over
// float64 buffers, multi-threaded (OpenMP, static split) above kSerialBelowElements and serial below.
// Callers release the GIL before calling these on large vectors.
//
// Below the threshold the loops never enter the OpenMP runtime: a parallel region with if(false)
// still costs about 0.35 us per call (a team of one is set up and torn down; measured with g++ 13 /
// libgomp on this machine), which is 100x a 2-D dot product and made the 2-D landscape paths cost
// 4-12 us per iteration.  So each operation branches on n before any pragma.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/parallel.hpp"

namespace fastopt::curvature {

inline int vector_threads(int64_t n) { return threads_for(n, kSerialBelowElements); }

// The parallel loops below take a private copy of the lambda (firstprivate): through the shared one,
// whose captured scalars a store to x[i] might change (both doubles), GCC reloaded the captures every
// iteration and vectorised the loop with AVX-512 gathers and scatters (vgatherqpd / vscatterqpd),
// several times slower than contiguous loads (perf, L-BFGS at n = 1e6: 60% of the run in one loop).

// sum_i term(i), in parallel for large n.  term(i) may also write index i (a fused axpy and dot).
template <class Term>
inline double sum_over(int64_t n, Term term) {
  double sum = 0;
  if (n < kSerialBelowElements) {
#if FASTOPT_HAVE_OPENMP
#pragma omp simd reduction(+ : sum)
#endif
    for (int64_t i = 0; i < n; ++i) sum += term(i);
    return sum;
  }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) reduction(+ : sum) num_threads(vector_threads(n)) firstprivate(term)
#endif
  for (int64_t i = 0; i < n; ++i) sum += term(i);
  return sum;
}

// Two sums in one pass: term(i, a, b) adds its terms to a and b (and may write index i).
template <class Term>
inline std::pair<double, double> sum_pair_over(int64_t n, Term term) {
  double a = 0, b = 0;
  if (n < kSerialBelowElements) {
#if FASTOPT_HAVE_OPENMP
#pragma omp simd reduction(+ : a, b)
#endif
    for (int64_t i = 0; i < n; ++i) term(i, a, b);
    return {a, b};
  }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) reduction(+ : a, b) num_threads(vector_threads(n)) firstprivate(term)
#endif
  for (int64_t i = 0; i < n; ++i) term(i, a, b);
  return {a, b};
}

// sum_i a[i] b[i]
inline double dot(const double* a, const double* b, int64_t n) {
  return sum_over(n, [=](int64_t i) { return a[i] * b[i]; });
}

inline double norm2(const double* a, int64_t n) { return std::sqrt(dot(a, a, n)); }

// max_i |a[i]|; NaN if any entry is NaN (so a NaN gradient is never "small").
inline double norm_inf(const double* a, int64_t n) {
  double m = 0;
  bool nan = false;
  if (n < kSerialBelowElements) {
    for (int64_t i = 0; i < n; ++i) {
      m = std::max(m, std::fabs(a[i]));
      nan = nan || std::isnan(a[i]);
    }
    return nan ? NAN : m;
  }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(max : m) reduction(|| : nan) num_threads(vector_threads(n))
#endif
  for (int64_t i = 0; i < n; ++i) {
    m = std::max(m, std::fabs(a[i]));
    nan = nan || std::isnan(a[i]);
  }
  return nan ? NAN : m;
}

// sum_i |a[i]|
inline double norm1(const double* a, int64_t n) {
  return sum_over(n, [=](int64_t i) { return std::fabs(a[i]); });
}

// Applies op(i) to every index, in parallel for large n: the elementwise loops (axpy, scale, copy)
// written once.  op must write only index i.
template <class Op>
inline void for_each_index(int64_t n, Op op) {
  if (n < kSerialBelowElements) {
#if FASTOPT_HAVE_OPENMP
#pragma omp simd
#endif
    for (int64_t i = 0; i < n; ++i) op(i);
    return;
  }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) num_threads(vector_threads(n)) firstprivate(op)
#endif
  for (int64_t i = 0; i < n; ++i) op(i);
}

// y += a x
inline void axpy(double a, const double* x, double* y, int64_t n) {
  for_each_index(n, [=](int64_t i) { y[i] += a * x[i]; });
}

// out = x + a d (the trial point of a line search)
inline void point_along(const double* x, double a, const double* d, double* out, int64_t n) {
  for_each_index(n, [=](int64_t i) { out[i] = x[i] + a * d[i]; });
}

inline void scale(double a, double* x, int64_t n) {
  for_each_index(n, [=](int64_t i) { x[i] *= a; });
}

inline void copy(const double* from, double* to, int64_t n) {
  for_each_index(n, [=](int64_t i) { to[i] = from[i]; });
}

inline bool all_finite(const double* a, int64_t n) {
  bool ok = true;
  if (n < kSerialBelowElements) {
    for (int64_t i = 0; i < n; ++i) ok = ok && std::isfinite(a[i]);
    return ok;
  }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(&& : ok) num_threads(vector_threads(n))
#endif
  for (int64_t i = 0; i < n; ++i) ok = ok && std::isfinite(a[i]);
  return ok;
}

// H p through the dense n x n Hessian (row-major) that fill_hessian(h) writes: the Hessian-vector product
// of the objectives and landscape functions that have no cheaper one.  Serial: filling H costs O(n^2)
// already, and a fixed summation order keeps the product reproducible.
template <class FillHessian>
inline void dense_hessp(int64_t n, const FillHessian& fill_hessian, const double* p, double* out) {
  std::vector<double> h(static_cast<size_t>(n * n));
  fill_hessian(h.data());
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += h[i * n + j] * p[j];
    out[i] = sum;
  }
}

}  // namespace fastopt::curvature
