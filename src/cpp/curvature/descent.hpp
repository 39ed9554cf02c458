// The iteration every line-search method shares: direction, line search, step, stopping rules.
//
// One iteration from x (value f, gradient g):
//   d = direction.compute(x, g)          restarted as steepest descent if g.d >= 0
//   t = line search along d, from direction.initial_step
//   x <- x + t d; direction.update(s = t d, y = g(x + t d) - g(x))
// The state that outlives a run (the direction's memory, the iteration count, the evaluation count)
// is a DescentState, so a closure-style optimizer resumes exactly where its last step() ended, and
// `minimize` is one run from a fresh state.  The stopping rules cover both conventions:
//   gtol  |g|_inf <= gtol                                   (scipy's gtol, torch's tolerance_grad)
//   ftol  f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1)    (scipy L-BFGS-B's ftol)
//   xtol  |t d|_inf <= xtol or |f_k - f_{k+1}| < xtol       (torch's tolerance_change)
// and a zero tolerance turns its rule off.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/line_search.hpp"
#include "curvature/objective.hpp"
#include "curvature/result.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

struct DescentOptions {
  int64_t max_iter = 1000;
  int64_t max_eval = 0;  // 0: no limit
  double gtol = 1e-5, ftol = 0, xtol = 0;
  double lr = 1;
  LineSearchOptions line_search;
};

struct DescentState {
  explicit DescentState(std::unique_ptr<Direction> dir) : direction(std::move(dir)) {}
  std::unique_ptr<Direction> direction;
  std::vector<double> d;  // the last search direction
  double t = 0;           // the last accepted step length
  double n_iter = 0;      // iterations over all runs (double: it travels in the scalar state)
  double func_evals = 0;  // evaluations over all runs
  double decrease = NAN;  // f drop of the last accepted step (CG's first trial step reads it); NaN: none yet
  // Scratch, not state: reused between runs to save allocating per step.
  LineSearchWork work;
  std::vector<double> s, y;

  std::vector<NamedArray> arrays() {
    std::vector<NamedArray> a = {{"d", &d}};
    for (auto& named : direction->arrays()) a.push_back(named);
    return a;
  }
  std::vector<NamedScalar> scalars() {
    std::vector<NamedScalar> v = {{"t", &t}, {"n_iter", &n_iter}, {"func_evals", &func_evals}, {"decrease", &decrease}};
    for (auto& named : direction->scalars()) v.push_back(named);
    return v;
  }
};

struct RunResult {
  Status status = Status::max_iter;
  std::string message;
  int64_t nit = 0;
  // Iterations whose strong-Wolfe search ended (max_ls, or a bracket at the precision of f) on a step
  // that decreases f enough but misses the curvature condition: accepted, and listed.
  std::vector<int64_t> weak_steps;
};

inline const char* describe(Status s) {
  switch (s) {
    case Status::converged: return "converged: the gradient's largest entry is at most gtol";
    case Status::max_iter: return "stopped: maximum number of iterations reached";
    case Status::line_search_failed: return "stopped: the line search found no step that decreases f (precision loss, or a gradient inconsistent with f)";
    case Status::nonfinite: return "stopped: f or its gradient is NaN or Inf, and no step backed off from it";
    case Status::small_change: return "converged: the step or the decrease of f fell below its tolerance";
    case Status::max_eval: return "stopped: maximum number of function evaluations reached";
    case Status::stopped: return "stopped by the callback";
  }
  return "";
}

// Runs up to opt.max_iter iterations from x, where the caller has evaluated f and g.  On return x, f
// and g hold the last accepted point (never a failed trial).
inline RunResult run_descent(Objective& obj, double* x, double& f, double* g, DescentState& st, const DescentOptions& opt,
                             const Observer& observe = nullptr) {
  const int64_t n = obj.dim();
  RunResult r;
  auto finish = [&](Status s) {
    r.status = s;
    r.message = describe(s);
    return r;
  };
  if (!std::isfinite(f) || !all_finite(g, n)) {
    r.status = Status::nonfinite;
    r.message = "stopped: f or its gradient is NaN or Inf at the start point";
    return r;
  }
  if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
  st.d.resize(n);
  st.work.resize(n);
  st.s.resize(n);
  st.y.resize(n);
  double* d = st.d.data();
  int64_t evals = 0;
  while (r.nit < opt.max_iter) {
    ++r.nit;
    st.n_iter += 1;
    if (st.n_iter == 1) {
      st.direction->reset();
      st.decrease = NAN;
    }
    st.direction->compute(obj, x, g, d);
    double gtd = dot(g, d, n);
    if (!(gtd < 0)) {  // not a descent direction (or NaN): forget the curvature, try steepest descent
      st.direction->reset();
      st.direction->compute(obj, x, g, d);
      gtd = dot(g, d, n);
    }
    if (!(gtd < 0) || gtd > -opt.xtol) return finish(!std::isfinite(gtd) ? Status::nonfinite : Status::small_change);
    const double t0 = st.direction->initial_step({opt.lr, g, n, gtd, st.decrease});
    const LineSearchResult ls = line_search(obj, x, d, t0, f, g, gtd, opt.line_search, st.work);
    evals += ls.evals;
    st.func_evals += static_cast<double>(ls.evals);
    const bool accepted = opt.line_search.kind == LineSearchKind::none ? !ls.nonfinite : ls.armijo;
    if (!accepted) return finish(ls.nonfinite ? Status::nonfinite : Status::line_search_failed);
    if (opt.line_search.kind == LineSearchKind::strong_wolfe && !ls.curvature) r.weak_steps.push_back(r.nit);
    // Take the step in one pass: x <- x + t d (the very point the line search evaluated), s the step
    // actually made, y = g_new - g, g <- g_new; s and y go where the direction keeps them (L-BFGS's
    // free ring slot), with y.s and y.y summed on the way.
    const double t = ls.t;
    StepBuffers into = st.direction->step_buffers(n);
    if (!into.s) into = {st.s.data(), st.y.data()};
    double *s = into.s, *y = into.y;
    const double* g_new = st.work.g_new.data();
    const auto [ys, yy] = sum_pair_over(n, [=](int64_t i, double& ys_sum, double& yy_sum) {
      const double next = x[i] + t * d[i];
      s[i] = next - x[i];
      x[i] = next;
      y[i] = g_new[i] - g[i];
      g[i] = g_new[i];
      ys_sum += y[i] * s[i];
      yy_sum += y[i] * y[i];
    });
    st.decrease = f - ls.f;
    const double f_old = f;
    f = ls.f;
    st.t = t;
    st.direction->update({s, y, g, d, t, n, ys, yy});
    if (observe && observe({r.nit, x, f, g, n, obj.nfev})) return finish(Status::stopped);
    if (norm_inf(g, n) <= opt.gtol) return finish(Status::converged);
    if (opt.max_eval > 0 && evals >= opt.max_eval) return finish(Status::max_eval);
    if (opt.xtol > 0 && (std::fabs(t) * norm_inf(d, n) <= opt.xtol || std::fabs(f_old - f) < opt.xtol))
      return finish(Status::small_change);
    if (opt.ftol > 0 && f_old - f <= opt.ftol * std::max({std::fabs(f_old), std::fabs(f), 1.0}))
      return finish(Status::small_change);
  }
  return finish(Status::max_iter);
}

}  // namespace fastopt::curvature
