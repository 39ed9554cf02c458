// Nonlinear conjugate gradient (Nocedal & Wright 5.2): d <- -g_new + beta d, with
//     Fletcher-Reeves    beta = g_new.g_new / g.g
//     Polak-Ribiere+     beta = max(0, g_new.y / g.g)             (y = g_new - g)
//     Hestenes-Stiefel   beta = g_new.y / d.y
// restarted as steepest descent every `restart_every` iterations (n by default) and whenever
// consecutive gradients are far from orthogonal, |g_new.g| >= 0.2 g_new.g_new (Powell's test, N&W
// 5.52).  The line search should be strong Wolfe with c2 < 1/2 (0.1 by default here), which keeps
// Fletcher-Reeves' directions descent directions.  The first trial step after the first iteration
// is N&W (3.60): t0 = min(1, 1.01 * 2 (f_prev - f) / -g.d), as scipy's CG does.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

enum class CgVariant { fletcher_reeves, polak_ribiere_plus, hestenes_stiefel };

inline CgVariant cg_variant(const std::string& name) {
  if (name == "FR" || name == "fletcher-reeves") return CgVariant::fletcher_reeves;
  if (name == "PR+" || name == "polak-ribiere+") return CgVariant::polak_ribiere_plus;
  if (name == "HS" || name == "hestenes-stiefel") return CgVariant::hestenes_stiefel;
  throw std::invalid_argument("variant: unknown conjugate-gradient variant '" + name + "'; choose from FR, PR+, HS");
}

class NonlinearCg : public Direction {
 public:
  // restart_every = 0: every n iterations.
  NonlinearCg(CgVariant variant, int64_t restart_every) : variant_(variant), restart_every_(restart_every) {}
  const char* name() const override { return "cg"; }

  void reset() override {
    since_reset_ = 0;
    beta_ = 0;
    restart_ = 1;
  }

  void compute(Objective& f, const double*, const double* g, double* d) override {
    const int64_t n = f.dim();
    const int64_t every = restart_every_ > 0 ? restart_every_ : n;
    if (restart_ != 0 || static_cast<int64_t>(since_reset_) % every == 0) {
      for_each_index(n, [=](int64_t i) { d[i] = -g[i]; });
      since_reset_ = 0;
    } else {
      const double beta = beta_;
      for_each_index(n, [=](int64_t i) { d[i] = -g[i] + beta * d[i]; });
    }
    ++since_reset_;
    restart_ = 0;
  }

  // beta from the dots g_new.g_new, g_new.y, d.y in one pass; g.g is kept from the previous step.
  void update(const Step& st) override {
    double gg_new = 0, gy = 0, dy = 0;
    const double *g = st.g_new, *y = st.y, *d = st.d;
    const int64_t n = st.n;
    if (n < kSerialBelowElements) {  // small: three serial dots, no OpenMP region (vector_ops.hpp)
      gg_new = dot(g, g, n), gy = dot(g, y, n), dy = dot(d, y, n);
    } else {
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for simd schedule(static) reduction(+ : gg_new, gy, dy) num_threads(vector_threads(n))
#endif
      for (int64_t i = 0; i < n; ++i) {
        gg_new += g[i] * g[i];
        gy += g[i] * y[i];
        dy += d[i] * y[i];
      }
    }
    // g.g of the previous gradient: g_old = g_new - y, so g_old.g_old = gg_new - 2 gy + y.y; kept
    // instead from the last update (or recomputed after a reset, when gg_ is 0).
    const double gg_old = gg_ > 0 ? gg_ : gg_new - 2 * gy + st.yy;
    const double g_dot_gold = gg_new - gy;
    switch (variant_) {
      case CgVariant::fletcher_reeves: beta_ = gg_new / gg_old; break;
      case CgVariant::polak_ribiere_plus: beta_ = std::max(0.0, gy / gg_old); break;
      case CgVariant::hestenes_stiefel: beta_ = gy / dy; break;
    }
    restart_ = !std::isfinite(beta_) || std::fabs(g_dot_gold) >= 0.2 * gg_new ? 1 : 0;
    gg_ = gg_new;
  }

  double initial_step(const TrialContext& c) const override {
    if (!std::isfinite(c.decrease) || !(c.decrease > 0)) return steepest_trial(c);
    return std::min(1.0, 1.01 * 2 * c.decrease / -c.gtd) * c.lr;
  }

  std::vector<NamedScalar> scalars() override {
    return {{"beta", &beta_}, {"gg", &gg_}, {"since_reset", &since_reset_}, {"restart", &restart_}};
  }

 private:
  CgVariant variant_;
  int64_t restart_every_;
  // Scalars are doubles so that they travel with the state arrays (state_dict).
  double beta_ = 0, gg_ = 0, since_reset_ = 0, restart_ = 1;
};

}  // namespace fastopt::curvature
