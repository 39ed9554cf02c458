// BFGS with a dense inverse-Hessian approximation H (Nocedal & Wright 6.17):
//     H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T,    rho = 1 / y.s
// skipped when y.s <= eps |y| |s| (no usable curvature along s: the update would lose positive
// definiteness).  H starts as I, as scipy's BFGS: rescaling it to (y.s / y.y) I before the first
// update (N&W 6.20) fits H to the curvature along the first step only, and on ill-conditioned problems
// it took 4-7x more iterations (60 against 11 on the 10-D quadratic of condition 1e3).
//
// Expanded, with u = H y, the update is the symmetric rank-two update
//     H <- H + s v^T + v s^T,   v = -rho u + (rho^2 y.u + rho) / 2 s,
// one BLAS dsyr2 on the upper triangle.  u and the next direction's H g are read from H in one
// dsymm (two right-hand sides), and the direction after the update is H_new g = H g + s (v.g) + v (s.g),
// so an iteration reads the triangle twice and writes it once: 1.5 n^2 doubles streamed (n = 7,850:
// 740 MB, the cost the logistic-regression study measures).
#pragma once
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

class Bfgs : public Direction {
 public:
  const char* name() const override { return "bfgs"; }

  void reset() override {
    updates_ = 0;
    since_reset_ = 0;
    hg_valid_ = 0;
    h_.clear();
  }

  void compute(Objective& f, const double*, const double* g, double* d) override {
    ++since_reset_;
    const int64_t n = f.dim();
    if (h_.empty()) {  // H = I
      for_each_index(n, [=](int64_t i) { d[i] = -g[i]; });
      return;
    }
    if (hg_valid_ == 0) {
      hg_.resize(n);
      scipy_cblas_dsymv(CblasRowMajor, CblasUpper, static_cast<blasint>(n), 1.0, h_.data(), static_cast<blasint>(n), g, 1,
                        0.0, hg_.data(), 1);
    }
    const double* hg = hg_.data();
    for_each_index(n, [=](int64_t i) { d[i] = -hg[i]; });
    hg_valid_ = 0;
  }

  void update(const Step& st) override {
    const int64_t n = st.n;
    const double ys = st.ys;  // y.s and y.y come summed from the step pass
    if (!(ys > std::numeric_limits<double>::epsilon() * std::sqrt(st.yy * dot(st.s, st.s, n)))) return;
    if (h_.empty()) {  // the first update: H = I
      h_.assign(static_cast<size_t>(n * n), 0.0);
      for (int64_t i = 0; i < n; ++i) h_[i * n + i] = 1;
    }
    // Sized here, not only at the first update: H may come from a checkpoint (load) into a fresh state.
    uy_.resize(static_cast<size_t>(2 * n));
    hg_.resize(n);
    v_.resize(n);
    // [u, H g_new] = H [y, g_new]: one read of H for both (n x 2 row-major right-hand side).
    for (int64_t i = 0; i < n; ++i) {
      uy_[2 * i] = st.y[i];
      uy_[2 * i + 1] = st.g_new[i];
    }
    std::vector<double>& out = products_;
    out.resize(static_cast<size_t>(2 * n));
    scipy_cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, static_cast<blasint>(n), 2, 1.0, h_.data(),
                      static_cast<blasint>(n), uy_.data(), 2, 0.0, out.data(), 2);
    const double rho = 1.0 / ys;
    double yu = 0;
    for (int64_t i = 0; i < n; ++i) yu += st.y[i] * out[2 * i];
    const double c = (rho * rho * yu + rho) / 2;
    double* v = v_.data();
    const double* s = st.s;
    double vg = 0, sg = 0;
    for (int64_t i = 0; i < n; ++i) {
      v[i] = -rho * out[2 * i] + c * s[i];
      vg += v[i] * st.g_new[i];
      sg += s[i] * st.g_new[i];
    }
    scipy_cblas_dsyr2(CblasRowMajor, CblasUpper, static_cast<blasint>(n), 1.0, s, 1, v, 1, h_.data(),
                      static_cast<blasint>(n));
    for (int64_t i = 0; i < n; ++i) hg_[i] = out[2 * i + 1] + s[i] * vg + v[i] * sg;
    hg_valid_ = 1;
    updates_ += 1;
  }

  double initial_step(const TrialContext& c) const override { return updates_ == 0 ? steepest_trial(c) : c.lr; }

  // The inverse-Hessian approximation, upper triangle valid (empty until the first update: H = I).
  const std::vector<double>& inverse_hessian() const { return h_; }

  std::vector<NamedArray> arrays() override { return {{"H", &h_}, {"Hg", &hg_}}; }
  std::vector<NamedScalar> scalars() override {
    return {{"updates", &updates_}, {"since_reset", &since_reset_}, {"Hg_valid", &hg_valid_}};
  }

 private:
  std::vector<double> h_, uy_, products_, hg_, v_;
  // Scalars are doubles so that they travel with the state arrays (state_dict).  Hg_valid: whether
  // hg_ holds H g for the gradient of the next compute (set by update, used once).
  double updates_ = 0, since_reset_ = 0, hg_valid_ = 0;
};

}  // namespace fastopt::curvature
