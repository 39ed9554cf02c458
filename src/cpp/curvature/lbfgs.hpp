// L-BFGS (Nocedal 1980; Nocedal & Wright Algorithm 7.4): the inverse Hessian approximated from the
// last m steps s_i and gradient changes y_i, applied to g by the two-loop recursion
//     q = -g;  for i = newest..oldest:  a_i = rho_i s_i.q,  q -= a_i y_i        (rho_i = 1 / y_i.s_i)
//     r = gamma q  (gamma = y.s / y.y of the newest pair: the initial scaling H0 = gamma I)
//     for i = oldest..newest:  b_i = rho_i y_i.r,  r += (a_i - b_i) s_i;   d = r
// A pair is kept only when y.s > 1e-10 (torch's threshold), which keeps the approximation positive
// definite.  The operations and their order are torch.optim.LBFGS's, so the two agree to rounding.
//
// Memory: the history is two (m + 1) x n ring buffers.  Each recursion streams every s_i and y_i twice;
// the passes are fused so that each axpy also computes the next dot product, d = -g computes the
// first dot, and the oldest pair's axpy also applies gamma and the second loop's first dot: 2k + 1
// passes over n-vectors for k pairs.  An update makes no pass: the extra ring slot receives the next
// step (run_descent writes s and y straight into it, with y.s and y.y, see step_buffers), and an
// accepted pair takes the slot over from the oldest.  Multi-threaded for large n.
//
// Not used: the compact form H = gamma I + [S gamma Y] M [S^T; gamma Y^T] (Byrd, Nocedal & Schnabel
// 1994), which streams the history twice with no working vector (about half the traffic), solves with
// R = triu(S^T Y); its rounding grows with cond(R), and on the 1e6-conditioned 10-d quadratic at
// max|g| <= 1e-9 it needed 436 iterations against the recursion's 316 (m = 10) and did not converge in
// 1000 for m = 3 (docs/sections/lbfgsperf.md).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "curvature/direction.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

// q <- c (q + a x), and then returns b . q (b may be null: no dot), in one pass over memory.  c = 1
// leaves the rounding of q + a x as it is (a product by 1 is exact).
inline double axpy_then_dot(double a, const double* x, double* q, const double* b, int64_t n, double c = 1) {
  if (!b) {
    for_each_index(n, [=](int64_t i) { q[i] = c * (q[i] + a * x[i]); });
    return 0;
  }
  return sum_over(n, [=](int64_t i) {
    q[i] = c * (q[i] + a * x[i]);
    return b[i] * q[i];
  });
}

// d = -g, and then returns b . d, in one pass.
inline double negate_then_dot(const double* g, double* d, const double* b, int64_t n) {
  return sum_over(n, [=](int64_t i) {
    d[i] = -g[i];
    return b[i] * d[i];
  });
}

class Lbfgs : public Direction {
 public:
  explicit Lbfgs(int64_t history_size) : m_(history_size) {}
  const char* name() const override { return "lbfgs"; }
  int64_t history_size() const { return m_; }
  int64_t stored() const { return static_cast<int64_t>(count_); }

  void reset() override {
    count_ = 0;
    head_ = 0;
    gamma_ = 1;
    since_reset_ = 0;
  }

  void compute(Objective& f, const double*, const double* g, double* d) override {
    ++since_reset_;
    const int64_t dim = f.dim(), k = stored();
    if (k == 0) {
      for_each_index(dim, [=](int64_t i) { d[i] = -g[i]; });
      return;
    }
    alpha_.resize(m_);
    // First loop, newest to oldest; the dot s_i.q of the next pair rides on the current axpy.  The
    // oldest pair's axpy also scales by gamma (r = gamma q) and computes the second loop's y_0.r.
    double sq = negate_then_dot(g, d, s_at(k - 1), dim);
    double yr = 0;
    for (int64_t i = k - 1; i >= 0; --i) {
      alpha_[i] = sq * rho_at(i);
      if (i > 0) sq = axpy_then_dot(-alpha_[i], y_at(i), d, s_at(i - 1), dim);
      else yr = axpy_then_dot(-alpha_[i], y_at(0), d, y_at(0), dim, gamma_);
    }
    // Second loop, oldest to newest.
    for (int64_t i = 0; i < k; ++i) {
      const double beta = yr * rho_at(i);
      yr = axpy_then_dot(alpha_[i] - beta, s_at(i), d, i + 1 < k ? y_at(i + 1) : nullptr, dim);
    }
  }

  // The free slot: the step writes s and y there, and update keeps them without a copy.
  StepBuffers step_buffers(int64_t n) override {
    if (n_ != static_cast<double>(n) || s_.size() != static_cast<size_t>((m_ + 1) * n)) {
      n_ = static_cast<double>(n);
      s_.assign(static_cast<size_t>((m_ + 1) * n), 0.0);
      y_.assign(static_cast<size_t>((m_ + 1) * n), 0.0);
      rho_.assign(static_cast<size_t>(m_ + 1), 0.0);
      count_ = head_ = 0;  // pairs of another dimension mean nothing here
    }
    const int64_t free = slot(stored());
    return {&s_[free * n], &y_[free * n]};
  }

  void update(const Step& st) override {
    if (!(st.ys > 1e-10)) return;  // no positive curvature along s: keep the old pairs
    const StepBuffers free = step_buffers(st.n);
    if (st.s != free.s) copy(st.s, free.s, st.n);
    if (st.y != free.y) copy(st.y, free.y, st.n);
    rho_[slot(stored())] = 1.0 / st.ys;
    if (count_ < m_) count_ += 1;
    else head_ = static_cast<double>((static_cast<int64_t>(head_) + 1) % (m_ + 1));
    gamma_ = st.ys / st.yy;
  }

  double initial_step(const TrialContext& c) const override { return since_reset_ == 1 ? steepest_trial(c) : c.lr; }

  std::vector<NamedArray> arrays() override { return {{"s", &s_}, {"y", &y_}, {"rho", &rho_}}; }
  std::vector<NamedScalar> scalars() override {
    return {{"count", &count_}, {"head", &head_}, {"gamma", &gamma_}, {"since_reset", &since_reset_}, {"n", &n_}};
  }

 private:
  // Pair i in age order: 0 the oldest kept, count-1 the newest; count is the free slot.
  int64_t slot(int64_t i) const { return (static_cast<int64_t>(head_) + i) % (m_ + 1); }
  int64_t n() const { return static_cast<int64_t>(n_); }
  const double* s_at(int64_t i) const { return &s_[slot(i) * n()]; }
  const double* y_at(int64_t i) const { return &y_[slot(i) * n()]; }
  double rho_at(int64_t i) const { return rho_[slot(i)]; }

  int64_t m_;
  // Scalars are doubles so that they travel with the state arrays (state_dict); all hold integers
  // except gamma.
  double count_ = 0, head_ = 0, gamma_ = 1, since_reset_ = 0, n_ = 0;
  std::vector<double> s_, y_, rho_, alpha_;
};

}  // namespace fastopt::curvature
