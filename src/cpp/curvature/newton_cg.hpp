// Line-search Newton-CG (Nocedal & Wright 2006, Algorithm 7.1; the algorithm of scipy.optimize's
// "Newton-CG"): the Newton system H d = -g solved inexactly by conjugate gradients on Hessian-vector
// products only, then a line search along d from step 1.
//
//     z_0 = 0, r_0 = g, p_0 = -g
//     repeat:  stop when |r_j|_1 <= min(0.5, sqrt(|g|_1)) |g|_1          (the forcing term)
//              q = H p_j;  kappa = p_j.q
//              kappa <= 0 (negative curvature): stop; at j = 0 take d = -(r.r / |kappa|) g
//              alpha = r_j.r_j / kappa;  z += alpha p_j;  r += alpha q
//              p_j+1 = -r_j+1 + (r_j+1.r_j+1 / r_j.r_j) p_j
//     d = z
// The 1-norms and the steepest-descent fallback are scipy's (N&W use 2-norms), so the two take the
// same directions.  Where scipy stops with an error (CG past its 20 n iterations) this keeps the
// truncated z: every CG iterate with positive curvature so far is a descent direction.  A zero first
// direction (zero curvature along g) falls back to -g.  Zero curvature means 0 <= kappa <= 3 eps
// |p|_2 |Hp|_2 (p and Hp orthogonal to rounding), where scipy tests kappa <= 3 eps absolutely: near a
// minimum |p| ~ |g| makes kappa ~ |g|^2 lambda fall below 3 eps (|g| ~ 1e-9 on rosenbrock), and scipy's
// test turned every other Newton-CG step there into a steepest-descent step (hundreds of iterations
// from f = 1e-18 to |g|_inf = 1e-10 on the landscape paths).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

class NewtonCg : public Direction {
 public:
  // cg_maxiter: CG iterations per direction (0: 20 n, scipy's).
  explicit NewtonCg(int64_t cg_maxiter) : cg_maxiter_(cg_maxiter) {}
  const char* name() const override { return "newton-cg"; }
  void reset() override {}

  void compute(Objective& f, const double* x, const double* g, double* d) override {
    const int64_t n = f.dim();
    r_.assign(g, g + n);
    p_.resize(n);
    hp_.resize(n);
    double *r = r_.data(), *p = p_.data(), *q = hp_.data();
    for_each_index(n, [=](int64_t i) {
      p[i] = -g[i];
      d[i] = 0;
    });
    const double g_norm = norm1(g, n), forcing = std::min(0.5, std::sqrt(g_norm)) * g_norm;
    const int64_t max_iter = cg_maxiter_ > 0 ? cg_maxiter_ : 20 * n;
    double rr = dot(r, r, n);
    int64_t steps = 0;  // CG steps taken (positive curvature)
    for (int64_t k = 0; k < max_iter; ++k) {
      if (norm1(r, n) <= forcing) break;
      f.hessp(x, p, q);
      const double curvature = dot(p, q, n);
      if (!std::isfinite(curvature)) return nan_direction(d, n);
      // No usable curvature along p, relative to |p| |Hp| (scipy compares p.Hp with 3 eps absolutely,
      // which near a minimum, where |p| ~ |g| is tiny, stops CG at d = 0 and leaves steepest descent
      // crawling: 418 iterations on Rosenbrock instead of 74).
      if (curvature >= 0 &&
          curvature <= 3 * std::numeric_limits<double>::epsilon() * std::sqrt(dot(p, p, n) * dot(q, q, n)))
        break;
      if (curvature < 0) {
        if (steps == 0) {
          const double scale = rr / -curvature;
          for_each_index(n, [=](int64_t i) { d[i] = -scale * g[i]; });
        }
        break;
      }
      const double alpha = rr / curvature;
      for_each_index(n, [=](int64_t i) {
        d[i] += alpha * p[i];
        r[i] += alpha * q[i];
      });
      const double rr_next = dot(r, r, n), beta = rr_next / rr;
      for_each_index(n, [=](int64_t i) { p[i] = -r[i] + beta * p[i]; });
      rr = rr_next;
      ++steps;
    }
    if (norm_inf(d, n) == 0) for_each_index(n, [=](int64_t i) { d[i] = -g[i]; });
  }

 private:
  int64_t cg_maxiter_;
  std::vector<double> r_, p_, hp_;
};

}  // namespace fastopt::curvature
