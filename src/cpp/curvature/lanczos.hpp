// The symmetric Lanczos process with full reorthogonalisation, against any operator given as a
// matvec callback (the curvature operators' one interface): the tridiagonal T_m = Q_m^T A Q_m, its
// eigenpairs (the Ritz values and vectors), and the extremal eigenpairs of A to a residual tolerance.
//
// Step j (q_j the current unit basis vector, beta_{-1} q_{-1} = 0):
//   w = A q_j,  alpha_j = q_j^T w,  w -= alpha_j q_j + beta_{j-1} q_{j-1}   (three-term recurrence)
//   h = Q_j^T w,  w -= Q_j h,  alpha_j += h_j                               (full reorthogonalisation,
//   a second pass when the first removed more than 1 - 1/sqrt(2) of |w|: DGKS, "twice is enough")
//   beta_j = |w|,  q_{j+1} = w / beta_j.
// The reorthogonalisation is one GEMV pair over the basis (rows of Q, row-major m x n) through the
// linked OpenBLAS; dot/axpy go through vector_ops.  beta_j below n * eps * |T| means Q_{j+1} spans an
// invariant subspace: T's eigenvalues so far are eigenvalues of A, and the process goes on from a fresh
// direction orthogonal to the basis with beta_j = 0 (T block-diagonal; the start vector's quadrature
// weights on the new block are zero, so the Gauss quadrature is unchanged).
//
// The Ritz pair (theta_i, Q_m^T z_i) has residual |A y - theta y| = beta_{m-1} |z_i[m-1]| (Paige), and
// some eigenvalue of A lies within that residual of theta_i.
#pragma once
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "curvature/lapack.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

// out = A v for the operator under study; v and out hold n doubles.
using MatVec = std::function<void(const double* v, double* out)>;

// Eigenvalues (ascending) and unit eigenvectors of the m x m symmetric tridiagonal matrix with
// diagonal alpha and off-diagonal beta (m - 1 entries): LAPACK's dstev.  Column i of the row-major
// z (m x m) is the eigenvector of values[i].
inline void tridiagonal_eigen(const std::vector<double>& alpha, const std::vector<double>& beta, int64_t m,
                              std::vector<double>& values, std::vector<double>& z) {
  values.assign(alpha.begin(), alpha.begin() + m);
  std::vector<double> off(beta.begin(), beta.begin() + std::max<int64_t>(m - 1, 0));
  off.resize(static_cast<size_t>(std::max<int64_t>(m, 1)));  // dstev's workspace wants m - 1, never 0
  z.assign(static_cast<size_t>(m * m), 0.0);
  const auto mi = static_cast<lapack_int>(m);
  const lapack_int info = scipy_LAPACKE_dstev(LAPACK_ROW_MAJOR, 'V', mi, values.data(), off.data(), z.data(), mi);
  lapack::check_info(info, "dstev");
  if (info > 0) throw std::runtime_error("dstev: the tridiagonal eigenproblem did not converge");
}

class Lanczos {
 public:
  // basis: room for max_steps rows of n doubles, owned by the caller (Python lends a NumPy array);
  // start: any nonzero vector, normalised into the first row.
  Lanczos(int64_t n, int64_t max_steps, double* basis, const double* start)
      : n_(n), max_steps_(max_steps), q_(basis), w_(static_cast<size_t>(n)), h_(static_cast<size_t>(max_steps)) {
    if (n < 1) throw std::invalid_argument("lanczos: the dimension must be >= 1");
    if (max_steps < 1 || max_steps > n) throw std::invalid_argument("lanczos: steps must be in [1, n]");
    const double norm = norm2(start, n);
    if (!(norm > 0) || !std::isfinite(norm)) throw std::invalid_argument("lanczos: the start vector must be finite and nonzero");
    for_each_index(n, [=](int64_t i) { basis[i] = start[i] / norm; });
  }

  // One step; false once max_steps steps are done.
  bool step(const MatVec& apply) {
    if (done()) return false;
    const int64_t j = steps_;
    const double* qj = row(j);
    double* w = w_.data();
    apply(qj, w);
    double a = dot(qj, w, n_);
    axpy(-a, qj, w, n_);
    if (j > 0) axpy(-beta_[j - 1], row(j - 1), w, n_);
    a += orthogonalise(w, j + 1);
    alpha_.push_back(a);
    const double b = norm2(w, n_);
    scale_ = std::max({scale_, std::fabs(a), b});
    last_beta_ = b;
    ++steps_;
    if (steps_ == max_steps_) return false;
    double next_beta = b;
    const double eps = std::numeric_limits<double>::epsilon();
    nearly_invariant_ = b <= std::sqrt(eps) * scale_;
    if (b <= static_cast<double>(n_) * eps * scale_) {
      // An invariant subspace: go on from a fresh direction orthogonal to it, with a zero coupling,
      // so T stays block-diagonal and its eigenvalues so far are eigenvalues of A.
      next_beta = 0, last_beta_ = 0;
      fresh_direction(w);
    }
    beta_.push_back(next_beta);
    const double norm = norm2(w, n_);
    double* next = row(steps_);
    for_each_index(n_, [=](int64_t i) { next[i] = w[i] / norm; });
    return true;
  }

  bool done() const { return steps_ == max_steps_; }
  // Whether the last step's beta was below sqrt(eps) |T|: the basis (nearly) spans an invariant subspace,
  // and the next vector is (nearly) a fresh direction, the start of a new block of T.
  bool nearly_invariant() const { return nearly_invariant_; }
  int64_t steps() const { return steps_; }
  const std::vector<double>& alpha() const { return alpha_; }
  // beta_0 .. beta_{m-2}: T's off-diagonal.
  const std::vector<double>& beta() const { return beta_; }
  // beta_{m-1}: |w| after the last step, the factor of every Ritz residual (0 on an invariant subspace).
  double last_beta() const { return last_beta_; }
  const double* row(int64_t j) const { return q_ + j * n_; }
  double* row(int64_t j) { return q_ + j * n_; }

  // y = Q_m^T z for a Ritz vector's coordinates z (m entries): a unit vector of R^n.
  void ritz_vector(const double* z, double* y) const { lapack::matvec(true, q_, steps_, n_, z, y); }

 private:
  // w -= Q_rows Q_rows^T w (one GEMV pair), a second pass when the first removed more than 1 - 1/sqrt(2)
  // of |w| (DGKS: "twice is enough").  Returns the total coefficient along the last row (q_j^T w).
  double orthogonalise(double* w, int64_t rows) {
    double along_last = 0, before = norm2(w, n_);
    for (int pass = 0; pass < 2; ++pass) {
      lapack::matvec(false, q_, rows, n_, w, h_.data());  // h = Q w
      scipy_cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(n_), -1.0, q_,
                        static_cast<blasint>(n_), h_.data(), 1, 1.0, w, 1);  // w -= Q^T h
      along_last += h_[rows - 1];
      const double after = norm2(w, n_);
      if (after > before / std::sqrt(2.0)) break;
      before = after;
    }
    return along_last;
  }

  // w = a pseudo-random unit direction orthogonal to the basis (deterministic: seeded by the step).
  void fresh_direction(double* w) {
    std::mt19937_64 rng(0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(steps_));
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (int64_t i = 0; i < n_; ++i) w[i] = uniform(rng);
    orthogonalise(w, steps_);
    orthogonalise(w, steps_);
  }

  int64_t n_, max_steps_, steps_ = 0;
  double* q_;
  std::vector<double> w_, h_, alpha_, beta_;
  double scale_ = 0, last_beta_ = 0;
  bool nearly_invariant_ = false;
};

enum class SpectrumEnd { largest, smallest, both };

inline SpectrumEnd spectrum_end(const std::string& which) {
  if (which == "largest") return SpectrumEnd::largest;
  if (which == "smallest") return SpectrumEnd::smallest;
  if (which == "both") return SpectrumEnd::both;
  throw std::invalid_argument("which: expected 'largest', 'smallest' or 'both', got '" + which + "'");
}

// The wanted Ritz pairs, by index into T's ascending eigenvalues: the k largest (largest first), the
// k smallest (smallest first), or both (largest then smallest; each once when 2k > m).
inline std::vector<int64_t> wanted_indices(SpectrumEnd end, int64_t k, int64_t m) {
  std::vector<int64_t> idx;
  const int64_t take = std::min(k, m);
  if (end != SpectrumEnd::smallest)
    for (int64_t i = 0; i < take; ++i) idx.push_back(m - 1 - i);
  if (end != SpectrumEnd::largest)
    for (int64_t i = 0; i < take; ++i)
      if (std::find(idx.begin(), idx.end(), i) == idx.end()) idx.push_back(i);
  return idx;
}

struct ExtremalEigen {
  std::vector<double> values, residuals;  // the wanted Ritz values and |A y - theta y|
  std::vector<double> vectors;            // row-major (wanted, n) when asked for, else empty
  int64_t steps = 0;                      // Lanczos steps = matvecs
  bool converged = false;
};

// The k extremal eigenpairs at `end`, Lanczos run until every wanted Ritz residual is at most
// max(tol |theta|, 1000 eps |T|) (so each value is within that of an eigenvalue of A; the second term is
// what rounding lets a residual reach), or max_steps is reached; never on a step whose beta is below
// sqrt(eps) |T| (a nearly invariant subspace).  T's eigenproblem is re-solved every step once
// there are enough Ritz values: O(m^2) each, small beside the matvecs.
inline ExtremalEigen extremal_eigen(const MatVec& apply, const double* start, int64_t n, int64_t k, SpectrumEnd end,
                                    double tol, int64_t max_steps, double* basis, bool want_vectors) {
  const int64_t wanted = end == SpectrumEnd::both ? std::min(2 * k, n) : k;
  if (k < 1 || wanted > n) throw std::invalid_argument("k: must be in [1, n]");
  if (max_steps < wanted) throw std::invalid_argument("max_iter: must be at least the number of eigenvalues wanted");
  Lanczos lanczos(n, max_steps, basis, start);
  std::vector<double> theta, z;
  ExtremalEigen out;
  std::vector<int64_t> idx;
  for (;;) {
    const bool more = lanczos.step(apply);
    const int64_t m = lanczos.steps();
    // Not where the basis (nearly) closes on an invariant subspace: its Ritz residuals are all about zero,
    // yet the rest of the spectrum (another copy of a repeated eigenvalue, a part the start vector
    // missed) is still to come.
    if (m < wanted || (more && lanczos.nearly_invariant())) continue;  // max_steps >= wanted
    tridiagonal_eigen(lanczos.alpha(), lanczos.beta(), m, theta, z);
    idx = wanted_indices(end, k, m);
    const double floor =
        1e3 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(theta.front()), std::fabs(theta.back()));
    bool ok = static_cast<int64_t>(idx.size()) == wanted;
    out.values.clear(), out.residuals.clear();
    for (int64_t i : idx) {
      const double r = lanczos.last_beta() * std::fabs(z[(m - 1) * m + i]);
      out.values.push_back(theta[i]);
      out.residuals.push_back(r);
      ok = ok && r <= std::max(tol * std::fabs(theta[i]), floor);
    }
    out.converged = ok;
    if (ok || !more) break;
  }
  const int64_t m = lanczos.steps();
  out.steps = m;
  if (want_vectors) {
    out.vectors.assign(idx.size() * static_cast<size_t>(n), 0.0);
    std::vector<double> zi(static_cast<size_t>(m));
    for (size_t r = 0; r < idx.size(); ++r) {
      for (int64_t row = 0; row < m; ++row) zi[row] = z[row * m + idx[r]];
      lanczos.ritz_vector(zi.data(), out.vectors.data() + r * n);
    }
  }
  return out;
}

}  // namespace fastopt::curvature
