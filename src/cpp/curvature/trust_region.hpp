// Trust-region Newton-CG, "trust-ncg" (Nocedal & Wright 2006, Algorithm 7.2 inside Algorithm 4.1;
// the algorithm of scipy.optimize's "trust-ncg"), on Hessian-vector products only.
//
// Each iteration minimises the quadratic model m(p) = f + g.p + p.Hp / 2 over |p|_2 <= Delta by
// Steihaug's conjugate gradients:
//     z = 0, r = g, d = -g;  tolerance = min(0.5, sqrt(|g|)) |g|
//     repeat:  kappa = d.Hd
//              kappa <= 0: return the boundary point z + tau d (|.| = Delta) with the lower model value
//              alpha = r.r / kappa;  |z + alpha d| >= Delta: return the boundary point z + tau d, tau >= 0
//              z += alpha d;  r += alpha Hd;  |r| < tolerance: return z
//              d = -r + (r_new.r_new / r_old.r_old) d
// then compares the decrease of f with the decrease the model predicted (Algorithm 4.1):
//     rho = (f(x) - f(x + p)) / (m(0) - m(p))
//     rho < 1/4: Delta <- Delta / 4;   rho > 3/4 and |p| = Delta: Delta <- min(2 Delta, max_radius)
//     rho > eta: x <- x + p (else x stays, and the next iteration tries a smaller step)
// The model's value is carried along the CG iterations (m(z + t d) - m(z) = t r.d + t^2 kappa / 2,
// r = g + H z), so choosing between the two boundary points costs no extra product (scipy spends two).
// A trial point where f or g is NaN or Inf counts as rho = -inf: rejected, and the radius shrinks.
//
// Stops: |g|_inf <= gtol (converged); the model predicts no decrease (precision loss, or a Hessian
// inconsistent with f: Status::line_search_failed, scipy's warnflag 2); the radius falls below the
// resolution of x (small_change, or nonfinite when NaN/Inf trials drove it there); max_iter;
// max_eval; the observer.  nit counts every iteration, rejected steps included (as scipy's), and the
// observer sees each one, so a recorded path repeats x where a step was rejected.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "curvature/descent.hpp"
#include "curvature/objective.hpp"
#include "curvature/result.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

struct TrustRegionOptions {
  double initial_radius = 1.0, max_radius = 1000.0;
  double eta = 0.15;  // accept a step when rho > eta
};

// scipy's rules: 0 <= eta < 1/4, 0 < initial_radius < max_radius.
inline void check_trust_region(const TrustRegionOptions& t) {
  if (!(t.eta >= 0 && t.eta < 0.25)) throw std::invalid_argument("eta: must be in [0, 0.25), got " + std::to_string(t.eta));
  if (!(t.initial_radius > 0 && t.initial_radius < t.max_radius && std::isfinite(t.max_radius)))
    throw std::invalid_argument("initial_trust_radius, max_trust_radius: need 0 < initial < max < inf, got " +
                                std::to_string(t.initial_radius) + ", " + std::to_string(t.max_radius));
}

struct SteihaugStep {
  double model_change = 0;  // m(p) - m(0)
  bool hits_boundary = false;
  bool nonfinite = false;  // a curvature d.Hd was NaN or Inf
};

struct SteihaugWork {
  std::vector<double> r, d, hd;
};

// The two steps tau (ta <= tb) with |z + tau d|_2 = radius, for |z| <= radius (scipy's
// get_boundaries_intersections: the root formula that avoids cancellation).
inline void boundary_steps(const double* z, const double* d, double radius, int64_t n, double& ta, double& tb) {
  const double a = dot(d, d, n), b = 2 * dot(z, d, n), c = dot(z, z, n) - radius * radius;
  const double aux = b + std::copysign(std::sqrt(b * b - 4 * a * c), b);
  ta = -aux / (2 * a), tb = -2 * c / aux;
  if (ta > tb) std::swap(ta, tb);
}

// Steihaug-CG for min m(p), |p| <= radius, at x with gradient g; p lands in z.
inline SteihaugStep steihaug(Objective& f, const double* x, const double* g, double radius, double* z, SteihaugWork& w) {
  const int64_t n = f.dim();
  w.r.assign(g, g + n);
  w.d.resize(n);
  w.hd.resize(n);
  double *r = w.r.data(), *d = w.d.data(), *hd = w.hd.data();
  for_each_index(n, [=](int64_t i) {
    z[i] = 0;
    d[i] = -g[i];
  });
  SteihaugStep step;
  const double g_norm = norm2(g, n), tolerance = std::min(0.5, std::sqrt(g_norm)) * g_norm;
  double rr = dot(r, r, n);
  // CG ends in n steps in exact arithmetic; the bound stops a run that rounding keeps alive.
  for (int64_t k = 0; k < 20 * n; ++k) {
    f.hessp(x, d, hd);
    const double kappa = dot(d, hd, n), rd = dot(r, d, n);
    if (!std::isfinite(kappa)) {
      step.nonfinite = true;
      return step;
    }
    auto model_along = [&](double t) { return t * rd + 0.5 * t * t * kappa; };
    const double alpha = rr / kappa;
    double z_next_sq = 0;
    if (kappa > 0) {
      const double zz = dot(z, z, n), zd = dot(z, d, n), dd = dot(d, d, n);
      z_next_sq = zz + 2 * alpha * zd + alpha * alpha * dd;
    }
    if (kappa <= 0 || std::sqrt(z_next_sq) >= radius) {
      double ta, tb;
      boundary_steps(z, d, radius, n, ta, tb);
      // Negative curvature: the lower of the two boundary points; else the one ahead along d.
      const double t = kappa <= 0 && model_along(ta) < model_along(tb) ? ta : tb;
      step.model_change += model_along(t);
      axpy(t, d, z, n);
      step.hits_boundary = true;
      return step;
    }
    step.model_change += model_along(alpha);
    for_each_index(n, [=](int64_t i) {
      z[i] += alpha * d[i];
      r[i] += alpha * hd[i];
    });
    const double rr_next = dot(r, r, n);
    if (std::sqrt(rr_next) < tolerance) return step;
    const double beta = rr_next / rr;
    for_each_index(n, [=](int64_t i) { d[i] = -r[i] + beta * d[i]; });
    rr = rr_next;
  }
  return step;
}

// Runs trust-ncg from x, where the caller has evaluated f and g; on return x, f and g hold the last
// accepted point.  Uses opt's max_iter, max_eval and gtol.
inline RunResult run_trust_ncg(Objective& obj, double* x, double& f, double* g, const DescentOptions& opt,
                               const TrustRegionOptions& trust, const Observer& observe = nullptr) {
  const int64_t n = obj.dim();
  RunResult r;
  auto finish = [&](Status s, const char* message = nullptr) {
    r.status = s;
    r.message = message ? message : describe(s);
    return r;
  };
  if (!std::isfinite(f) || !all_finite(g, n))
    return finish(Status::nonfinite, "stopped: f or its gradient is NaN or Inf at the start point");
  if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
  std::vector<double> p(n), x_trial(n), g_trial(n);
  SteihaugWork work;
  double radius = trust.initial_radius;
  int64_t evals = 0;
  bool nonfinite_trial = false;  // the last rejected trial had a NaN or Inf f or g
  while (r.nit < opt.max_iter) {
    ++r.nit;
    const SteihaugStep step = steihaug(obj, x, g, radius, p.data(), work);
    if (step.nonfinite) return finish(Status::nonfinite, "stopped: a Hessian-vector product is NaN or Inf");
    const double predicted = -step.model_change;
    if (!(predicted > 0))
      return finish(Status::line_search_failed,
                    "stopped: the quadratic model predicts no decrease (precision loss, or a Hessian inconsistent with f)");
    point_along(x, 1.0, p.data(), x_trial.data(), n);
    const double f_trial = obj.value_grad(x_trial.data(), g_trial.data());
    ++evals;
    const bool finite = std::isfinite(f_trial) && all_finite(g_trial.data(), n);
    const double rho = finite ? (f - f_trial) / predicted : -std::numeric_limits<double>::infinity();
    if (rho < 0.25) radius *= 0.25;
    else if (rho > 0.75 && step.hits_boundary) radius = std::min(2 * radius, trust.max_radius);
    nonfinite_trial = !finite;
    if (rho > trust.eta) {
      copy(x_trial.data(), x, n);
      copy(g_trial.data(), g, n);
      f = f_trial;
    }
    if (observe && observe({r.nit, x, f, g, n, obj.nfev})) return finish(Status::stopped);
    if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
    if (opt.max_eval > 0 && evals >= opt.max_eval) return finish(Status::max_eval);
    if (radius <= std::numeric_limits<double>::epsilon() * std::max(1.0, norm2(x, n))) {
      if (nonfinite_trial)
        return finish(Status::nonfinite, "stopped: f or its gradient is NaN or Inf at the trial points, down to a radius below the resolution of x");
      return finish(Status::small_change, "converged: the trust radius fell below the resolution of x");
    }
  }
  return finish(Status::max_iter);
}

}  // namespace fastopt::curvature
