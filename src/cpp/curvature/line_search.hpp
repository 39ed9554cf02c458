// Line searches along a descent direction d from x: strong Wolfe (bracketing, then zoom with cubic
// interpolation; the algorithm of minFunc's WolfeLineSearch, which torch.optim.LBFGS's
// _strong_wolfe also follows, so fastopt.LBFGS and torch take the same steps), Armijo backtracking
// (quadratic interpolation, safeguarded), and none (the trial step as is).
//
// With phi(t) = f(x + t d) and phi'(t) = g(x + t d) . d, the conditions (Nocedal & Wright 3.7):
//   sufficient decrease (Armijo)   phi(t) <= phi(0) + c1 t phi'(0)
//   strong curvature               |phi'(t)| <= c2 |phi'(0)|
// Whatever a search returns, the result says which of them hold at the returned step: checked on
// the numbers, never assumed.  A NaN or Inf value or slope counts as "too far": the search backs off
// towards the last finite point, and reports nonfinite when it met one.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "curvature/objective.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

constexpr double kEpsilon = std::numeric_limits<double>::epsilon();

enum class LineSearchKind { strong_wolfe, armijo, none };

inline LineSearchKind line_search_kind(const std::string& name) {
  if (name == "strong_wolfe") return LineSearchKind::strong_wolfe;
  if (name == "armijo") return LineSearchKind::armijo;
  if (name == "none") return LineSearchKind::none;
  throw std::invalid_argument("line_search: unknown line search '" + name + "'; choose from strong_wolfe, armijo, none");
}

struct LineSearchOptions {
  LineSearchKind kind = LineSearchKind::strong_wolfe;
  double c1 = 1e-4;
  double c2 = 0.9;
  int64_t max_ls = 25;  // trial steps after the first (torch's max_ls)
  // The zoom stops when the bracket is this short, in |t d|_inf (torch's tolerance_change; the
  // closure optimizers pass theirs, minimize none), or when its ends are a few ulps apart.
  double tolerance_change = 0;
};

struct LineSearchResult {
  double t = 0;       // the returned step
  double f = 0;       // phi(t)
  double gtd = 0;     // phi'(t)
  int64_t evals = 0;  // evaluations of f and g made
  bool armijo = false, curvature = false;  // the conditions that hold at t (curvature: the strong one)
  bool nonfinite = false;                  // some trial point had a NaN or Inf value or slope
};

// Buffers a search needs (n doubles each), kept between searches to avoid allocating per step.
struct LineSearchWork {
  std::vector<double> x_trial, g_new, g_prev, g_bracket[2];
  void resize(int64_t n) {
    for (auto* v : {&x_trial, &g_new, &g_prev, &g_bracket[0], &g_bracket[1]}) v->resize(static_cast<size_t>(n));
  }
};

namespace detail {

// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi]; the
// midpoint when the cubic has no minimiser or the numbers are not finite.
inline double cubic_minimizer(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi) {
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const double d2 = std::sqrt(d2_square);
    const double t = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                              : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (std::isfinite(t)) return std::min(std::max(t, lo), hi);
  }
  return (lo + hi) / 2;
}

}  // namespace detail

// phi(t) and phi'(t) at x + t d; the gradient lands in g_out.
inline std::pair<double, double> evaluate_along(Objective& f, const double* x, const double* d, double t, double* x_trial,
                                                double* g_out) {
  const int64_t n = f.dim();
  point_along(x, t, d, x_trial, n);
  const double value = f.value_grad(x_trial, g_out);
  return {value, dot(g_out, d, n)};
}

inline void check_conditions(LineSearchResult& r, double f0, double gtd0, const LineSearchOptions& o) {
  const bool finite = std::isfinite(r.f) && std::isfinite(r.gtd);
  // Strictly below f0 too: at the precision of f, f0 + c1 t phi'(0) rounds to f0, and a step that
  // leaves f unchanged would pass and be taken again and again.
  r.armijo = finite && r.t > 0 && r.f <= f0 + o.c1 * r.t * gtd0 && r.f < f0;
  r.curvature = finite && r.t > 0 && std::fabs(r.gtd) <= o.c2 * std::fabs(gtd0);
}

// Strong Wolfe search from step t along d (gtd = g.d < 0 at x, where the value is f0).  On return
// the gradient at x + r.t d is in work.g_new.
inline LineSearchResult strong_wolfe(Objective& f, const double* x, const double* d, double t, double f0, const double* g0,
                                     double gtd0, const LineSearchOptions& o, LineSearchWork& w) {
  const int64_t n = f.dim();
  const double d_norm = norm_inf(d, n);
  LineSearchResult r;
  auto [f_new, gtd_new] = evaluate_along(f, x, d, t, w.x_trial.data(), w.g_new.data());
  r.evals = 1;
  // The last step tried before t (0: x itself) and its value, slope and gradient (in w.g_prev, or
  // still g0 itself: copied only if a bracket takes it, which most searches never need).
  double t_prev = 0, f_prev = f0, gtd_prev = gtd0;
  bool prev_is_g0 = true;
  auto g_prev = [&]() -> std::vector<double>& {
    if (prev_is_g0) copy(g0, w.g_prev.data(), n);
    prev_is_g0 = false;
    return w.g_prev;
  };
  // The bracket the zoom shrinks: ends, values, slopes (gradients in w.g_bracket); lo is the end
  // with the lower value.
  double b_t[2] = {0, 0}, b_f[2] = {0, 0}, b_gtd[2] = {0, 0};
  int lo = 0, hi = 1;
  bool done = false, bracketed = false;
  auto bracket = [&](double ta, double fa, double gtda, std::vector<double>& ga, double tb, double fb, double gtdb,
                     std::vector<double>& gb) {
    b_t[0] = ta, b_f[0] = fa, b_gtd[0] = gtda, b_t[1] = tb, b_f[1] = fb, b_gtd[1] = gtdb;
    std::swap(w.g_bracket[0], ga);
    std::swap(w.g_bracket[1], gb);
    bracketed = true;
  };
  int64_t ls_iter = 0;
  while (ls_iter < o.max_ls) {
    const bool bad = !std::isfinite(f_new) || !std::isfinite(gtd_new);
    r.nonfinite = r.nonfinite || bad;
    if (bad || f_new > f0 + o.c1 * t * gtd0 || (ls_iter > 1 && f_new >= f_prev)) {
      bracket(t_prev, f_prev, gtd_prev, g_prev(), t, bad ? INFINITY : f_new, gtd_new, w.g_new);
      break;
    }
    if (std::fabs(gtd_new) <= -o.c2 * gtd0) {  // strong Wolfe holds at t: done
      done = true;
      break;
    }
    if (gtd_new >= 0) {  // the minimum along d lies behind t
      bracket(t_prev, f_prev, gtd_prev, g_prev(), t, f_new, gtd_new, w.g_new);
      break;
    }
    // Extrapolate: the cubic's minimiser, at least 1% further than t and at most 10 t.
    const double step = detail::cubic_minimizer(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, t + 0.01 * (t - t_prev), t * 10);
    t_prev = t, f_prev = f_new, gtd_prev = gtd_new;
    std::swap(w.g_prev, w.g_new);
    prev_is_g0 = false;
    t = step;
    std::tie(f_new, gtd_new) = evaluate_along(f, x, d, t, w.x_trial.data(), w.g_new.data());
    ++r.evals;
    ++ls_iter;
  }
  if (done) {
    r.t = t, r.f = f_new, r.gtd = gtd_new;
    check_conditions(r, f0, gtd0, o);
    return r;
  }
  if (!bracketed) {  // max_ls trials spent extrapolating: bracket [0, t]
    prev_is_g0 = true;
    bracket(0, f0, gtd0, g_prev(), t, f_new, gtd_new, w.g_new);
  }
  // Zoom: shrink [lo, hi] (lo: the lower value) by cubic interpolation, keeping away from the ends.
  lo = b_f[0] <= b_f[1] ? 0 : 1, hi = 1 - lo;
  bool insufficient_progress = false;
  while (!done && ls_iter < o.max_ls) {
    const double width = std::fabs(b_t[1] - b_t[0]);
    if (width * d_norm < o.tolerance_change || width <= 4 * kEpsilon * std::max(b_t[0], b_t[1])) break;
    const double t_min = std::min(b_t[0], b_t[1]), t_max = std::max(b_t[0], b_t[1]);
    t = detail::cubic_minimizer(b_t[0], b_f[0], b_gtd[0], b_t[1], b_f[1], b_gtd[1], t_min, t_max);
    const double eps = 0.1 * (t_max - t_min);
    if (std::min(t_max - t, t - t_min) < eps) {  // too close to an end
      if (insufficient_progress || t >= t_max || t <= t_min) {
        t = std::fabs(t - t_max) < std::fabs(t - t_min) ? t_max - eps : t_min + eps;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    std::tie(f_new, gtd_new) = evaluate_along(f, x, d, t, w.x_trial.data(), w.g_new.data());
    ++r.evals;
    ++ls_iter;
    const bool bad = !std::isfinite(f_new) || !std::isfinite(gtd_new);
    r.nonfinite = r.nonfinite || bad;
    if (bad || f_new > f0 + o.c1 * t * gtd0 || f_new >= b_f[lo]) {  // t becomes the high end
      b_t[hi] = t, b_f[hi] = bad ? INFINITY : f_new, b_gtd[hi] = gtd_new;
      std::swap(w.g_bracket[hi], w.g_new);
      lo = b_f[0] <= b_f[1] ? 0 : 1, hi = 1 - lo;
    } else {
      if (std::fabs(gtd_new) <= -o.c2 * gtd0) {
        done = true;
      } else if (gtd_new * (b_t[hi] - b_t[lo]) >= 0) {  // the old low end becomes the high end
        b_t[hi] = b_t[lo], b_f[hi] = b_f[lo], b_gtd[hi] = b_gtd[lo];
        std::swap(w.g_bracket[hi], w.g_bracket[lo]);
      }
      b_t[lo] = t, b_f[lo] = f_new, b_gtd[lo] = gtd_new;
      std::swap(w.g_bracket[lo], w.g_new);
    }
  }
  // Return the low end, its gradient in w.g_new.
  r.t = b_t[lo], r.f = b_f[lo], r.gtd = b_gtd[lo];
  std::swap(w.g_bracket[lo], w.g_new);
  check_conditions(r, f0, gtd0, o);
  return r;
}

// Backtracking from step t until the Armijo condition holds: each retry takes the minimiser of the
// quadratic through phi(0), phi'(0) and phi(t), kept within [0.1 t, 0.5 t]; halving after a NaN/Inf.
inline LineSearchResult armijo(Objective& f, const double* x, const double* d, double t, double f0, double gtd0,
                               const LineSearchOptions& o, LineSearchWork& w) {
  LineSearchResult r;
  for (;;) {
    auto [f_new, gtd_new] = evaluate_along(f, x, d, t, w.x_trial.data(), w.g_new.data());
    ++r.evals;
    r.t = t, r.f = f_new, r.gtd = gtd_new;
    const bool bad = !std::isfinite(f_new) || !std::isfinite(gtd_new);
    r.nonfinite = r.nonfinite || bad;
    if (!bad && f_new <= f0 + o.c1 * t * gtd0) break;
    if (r.evals > o.max_ls) break;
    if (bad) {
      t *= 0.5;
    } else {
      const double quadratic = -gtd0 * t * t / (2 * (f_new - f0 - gtd0 * t));
      t = std::min(std::max(quadratic, 0.1 * t), 0.5 * t);
    }
  }
  check_conditions(r, f0, gtd0, o);
  return r;
}

// The trial step as is: one evaluation, conditions reported.
inline LineSearchResult fixed_step(Objective& f, const double* x, const double* d, double t, double f0, double gtd0,
                                   const LineSearchOptions& o, LineSearchWork& w) {
  LineSearchResult r;
  std::tie(r.f, r.gtd) = evaluate_along(f, x, d, t, w.x_trial.data(), w.g_new.data());
  r.t = t, r.evals = 1;
  r.nonfinite = !std::isfinite(r.f) || !std::isfinite(r.gtd);
  check_conditions(r, f0, gtd0, o);
  return r;
}

inline LineSearchResult line_search(Objective& f, const double* x, const double* d, double t, double f0, const double* g0,
                                    double gtd0, const LineSearchOptions& o, LineSearchWork& w) {
  switch (o.kind) {
    case LineSearchKind::strong_wolfe: return strong_wolfe(f, x, d, t, f0, g0, gtd0, o, w);
    case LineSearchKind::armijo: return armijo(f, x, d, t, f0, gtd0, o, w);
    case LineSearchKind::none: break;
  }
  return fixed_step(f, x, d, t, f0, gtd0, o, w);
}

}  // namespace fastopt::curvature
