// Levenberg-Marquardt for least squares, min F(x) = |r(x)|^2 / 2 with r: R^n -> R^m and Jacobian J
// (Madsen, Nielsen & Tingleff 2004, "Methods for non-linear least squares problems", Algorithm 3.16):
//
//     A = J^T J,  g = J^T r  (the gradient of F),  mu_0 = damping * max_i A_ii,  nu = 2
//     each iteration:  (A + mu I) h = -g            (Cholesky, LAPACK)
//                      rho = (F(x) - F(x + h)) / (L(0) - L(h)),   L(0) - L(h) = h.(mu h - g) / 2
//                      rho > 0:  x <- x + h;  mu <- mu max(1/3, 1 - (2 rho - 1)^3);  nu <- 2
//                      else:     mu <- mu nu;  nu <- 2 nu
// Small mu gives the Gauss-Newton step h = -(J^T J)^-1 J^T r (fast near a zero-residual solution);
// large mu a short step along -g (safe far from it); the gain ratio rho moves between the two.
// With adaptive = false, mu stays mu_0 and every step is taken: damped Gauss-Newton, and with
// damping = 0 plain Gauss-Newton.
//
// Stops (scipy.optimize.least_squares's option names; MNT's eps1, eps2 for gtol, xtol):
//     gtol  |g|_inf <= gtol  (converged)
//     xtol  |h|_2 <= xtol (|x|_2 + xtol)  (small_change)
//     ftol  an accepted step with 0 <= F_old - F <= ftol F_old  (small_change)
//     max_nfev residual evaluations (max_eval), the observer (stopped).
// A trial point with NaN or Inf residuals is rejected as rho = -inf (mu grows, the step shrinks); if
// that ends in the xtol stop, or the Jacobian at an accepted point is not finite, the status is
// nonfinite.  A singular J^T J + mu I (Gauss-Newton on a rank-deficient J) stops with
// Status::line_search_failed.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "curvature/descent.hpp"
#include "curvature/lapack.hpp"
#include "curvature/objective.hpp"
#include "curvature/result.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

struct LeastSquaresOptions {
  double xtol = 1e-8, ftol = 1e-8, gtol = 1e-8;
  int64_t max_nfev = 0;  // 0: 100 n (scipy's default for "lm" with a Jacobian)
  double damping = 1e-3;  // tau: mu_0 = tau max_i (J^T J)_ii
  bool adaptive = true;
};

// Result's f is the cost F = |r|^2 / 2 and g its gradient J^T r.
struct LeastSquaresResult : Result {
  std::vector<double> residuals, jacobian;  // r (m) and J (m x n, row-major) at x
};

inline void check_options(const LeastSquaresOptions& o) {
  for (const auto& [name, value] : {std::pair<const char*, double>{"xtol", o.xtol}, {"ftol", o.ftol}, {"gtol", o.gtol}})
    if (!(std::isfinite(value) && value >= 0)) throw std::invalid_argument(std::string(name) + ": must be a finite number >= 0, got " + std::to_string(value));
  if (!(std::isfinite(o.damping) && o.damping >= 0) || (o.adaptive && o.damping == 0))
    throw std::invalid_argument("damping: must be finite and > 0 (>= 0 with adaptive=False: the gain-ratio update never "
                                "leaves mu = 0), got " + std::to_string(o.damping));
  if (o.max_nfev < 0) throw std::invalid_argument("max_nfev: must be >= 0, got " + std::to_string(o.max_nfev));
}

inline LeastSquaresResult levenberg_marquardt(Residuals& res, const double* x0, const LeastSquaresOptions& opt,
                                              const Observer& observe = nullptr) {
  check_options(opt);
  const int64_t n = res.dim(), m = res.count();
  const int64_t max_nfev = opt.max_nfev > 0 ? opt.max_nfev : 100 * n;
  LeastSquaresResult out;
  out.x.assign(x0, x0 + n);
  out.g.resize(n);
  out.residuals.resize(m);
  out.jacobian.resize(static_cast<size_t>(m * n));
  double *x = out.x.data(), *g = out.g.data(), *r = out.residuals.data(), *jac = out.jacobian.data();
  std::vector<double> a(static_cast<size_t>(n * n)), factor(a.size()), h(n), x_new(n), r_new(m);
  auto finish = [&](Status s, const std::string& message = "") {
    out.status = s;
    out.message = message.empty() ? describe(s) : message;
    out.nfev = res.nfev, out.njev = res.njev;
    return out;
  };
  // J, A = J^T J and g = J^T r at x; false if J or g is not finite.
  auto linearise = [&] {
    res.jacobian(x, jac);
    if (!all_finite(jac, m * n)) return false;
    lapack::gram(jac, m, n, a.data());
    lapack::matvec(true, jac, m, n, r, g);
    return all_finite(g, n);
  };
  res.residuals(x, r);
  out.f = 0.5 * dot(r, r, m);
  if (!std::isfinite(out.f) || !linearise())
    return finish(Status::nonfinite, "stopped: the residuals or their Jacobian are NaN or Inf at the start point");
  if (observe) observe({0, x, out.f, g, n, res.nfev});
  if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
  double max_diag = 0;
  for (int64_t i = 0; i < n; ++i) max_diag = std::max(max_diag, a[i * n + i]);
  double mu = opt.damping * max_diag, nu = 2;
  bool nonfinite_trial = false;  // the last rejected trial had NaN or Inf residuals
  for (;;) {
    ++out.nit;
    std::copy(a.begin(), a.end(), factor.begin());
    for (int64_t i = 0; i < n; ++i) factor[i * n + i] += mu;
    const bool factored = lapack::cholesky(factor.data(), n);
    if (!factored && !(opt.adaptive && mu > 0))
      return finish(Status::line_search_failed, "stopped: J^T J + mu I is singular (Gauss-Newton on a rank-deficient "
                                                "Jacobian); use damping > 0");
    bool accepted = false;
    if (factored) {
      for (int64_t i = 0; i < n; ++i) h[i] = -g[i];
      lapack::cholesky_solve(factor.data(), h.data(), n);
      if (norm2(h.data(), n) <= opt.xtol * (norm2(x, n) + opt.xtol)) {
        if (nonfinite_trial)
          return finish(Status::nonfinite, "stopped: the residuals are NaN or Inf at every trial point, down to steps below xtol");
        return finish(Status::small_change, "converged: the step fell below xtol");
      }
      point_along(x, 1.0, h.data(), x_new.data(), n);
      res.residuals(x_new.data(), r_new.data());
      const double f_new = 0.5 * dot(r_new.data(), r_new.data(), m);
      double predicted = 0;
      for (int64_t i = 0; i < n; ++i) predicted += 0.5 * h[i] * (mu * h[i] - g[i]);
      const double rho = std::isfinite(f_new) ? (out.f - f_new) / predicted : -std::numeric_limits<double>::infinity();
      nonfinite_trial = !std::isfinite(f_new);
      if (nonfinite_trial && !opt.adaptive)
        return finish(Status::nonfinite, "stopped: the residuals are NaN or Inf at the Gauss-Newton step");
      accepted = !opt.adaptive || rho > 0;
      if (accepted) {
        const double f_old = out.f;
        std::copy(x_new.begin(), x_new.end(), x);
        std::copy(r_new.begin(), r_new.end(), r);
        out.f = f_new;
        if (!linearise()) return finish(Status::nonfinite, "stopped: the Jacobian or the gradient J^T r is NaN or Inf");
        if (opt.adaptive) {
          const double c = 2 * rho - 1;
          mu *= std::max(1.0 / 3, 1 - c * c * c);
          nu = 2;
        }
        if (observe && observe({out.nit, x, out.f, g, n, res.nfev})) return finish(Status::stopped);
        if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
        if (f_old - out.f >= 0 && f_old - out.f <= opt.ftol * f_old)
          return finish(Status::small_change, "converged: the decrease of the cost fell below ftol");
      }
    }
    if (!accepted) {
      mu *= nu;
      nu *= 2;
      if (observe && observe({out.nit, x, out.f, g, n, res.nfev})) return finish(Status::stopped);
    }
    if (res.nfev >= max_nfev) return finish(Status::max_eval);
  }
}

}  // namespace fastopt::curvature
