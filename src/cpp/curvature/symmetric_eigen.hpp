// The eigen-decomposition of one symmetric matrix, shared by K-FAC's factors (kfac_decompose.hpp),
// Shampoo's inverse roots and SOAP's eigenbases (matrix_root.hpp, shampoo_blocks.hpp):
//   A = Q diag(d) Q^T by LAPACK's divide and conquer (ssyevd / dsyevd), Q's columns the unit
//   eigenvectors (row-major), d ascending and as LAPACK returns them (callers clamp or shift).
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "curvature/lapack.hpp"

namespace fastopt::curvature {

// Swap q (n, n) to its transpose in place.
template <class T>
void transpose_square(T* q, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) std::swap(q[i * n + j], q[j * n + i]);
}

// q (n, n) <- the eigenvectors of the symmetric a (n, n) in its columns, d (n,) <- the eigenvalues,
// ascending.  Returns false when LAPACK did not converge (q, d then undefined).
template <class T>
bool symmetric_eigenvectors(const T* a, T* q, T* d, int64_t n) {
  std::copy(a, a + n * n, q);
  if (!lapack::symmetric_eigen(q, d, n)) return false;
  transpose_square(q, n);  // LAPACK leaves eigenvectors in rows (row-major view)
  return true;
}

}  // namespace fastopt::curvature
