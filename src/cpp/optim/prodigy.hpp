// Prodigy (Mishchenko & Defazio, 2024, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"), as
// the authors' prodigyopt: Adam whose step size is D, an estimate of the distance to the solution
// grown from d0 by two sums over every element of the group.  Per step (k from 0, d the estimate):
//   g <- sign*g (+ wd*p unless decouple);  dlr = d * lr * (sqrt(1-b2^(k+1)) / (1-b1^(k+1)) if bias correction)
//   m <- b1*m + d*(1-b1)*g;  v <- b2*v + d^2*(1-b2)*g^2;  s <- b3*s + (d/d0)*(safeguard ? d : dlr)*g
//   num <- b3*num + (d/d0)*dlr*<g, p0 - p>;  den = sum |s|           (over every tensor of the group)
//   d_hat = d_coef*num/den;  d <- max(d, d_hat) at the first estimate;  d_max <- max(d_max, d_hat);
//   d <- min(d_max, d*growth_rate)
//   p <- p*(1 - wd*dlr) (if decouple) - dlr * m / (sqrt(v) + d*eps)   (beta1 = 0: dlr*d*g instead of dlr*m)
// with the new d in the denominator and the old one in dlr, as prodigyopt.  When den is 0 (every
// gradient zero so far) the params do not move and d, num and k stay (prodigyopt returns early).
// Two passes: the first updates m, v, s and sums <g, p0-p> and |s| over every tensor of both dtypes (a
// group-wide reduction, so Prodigy steps a whole group at once: step_group), the second moves p.
// d, d_max, num and k are carried (d = d_max = 0 before the first step: d0 then).
#pragma once
#include <algorithm>
#include <cmath>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"
#include "common/spec.hpp"
#include "common/tensor_sums.hpp"

namespace fastopt {

// The group's scalars before a step: the carried estimate and this step's dlr.
struct ProdigyState {
  double d0, d, d_max, num, k, b3, dlr;
  explicit ProdigyState(const Hyper& h) : d0(h["d0"]), d(h["d"] > 0 ? h["d"] : h["d0"]),
      d_max(h["d_max"] > 0 ? h["d_max"] : h["d0"]), num(h["d_numerator"]), k(h["k"]),
      b3(h["beta3"] > 0 ? h["beta3"] : std::sqrt(h["beta2"])) {
    const double bias = h.flag("use_bias_correction")
        ? std::sqrt(1 - std::pow(h["beta2"], k + 1)) / (1 - std::pow(h["beta1"], k + 1)) : 1.0;
    dlr = d * h["lr"] * bias;
  }
};

template <class T, bool Momentum>
struct ProdigyRule {
  T sign, l2, b1, m_coef, b2, v_coef, b3, s_coef, decay, step, eps_d;
  ProdigyRule(const Hyper& h, const ProdigyState& st)
      : sign(h.sign()), l2(h.flag("decouple") ? 0.0 : h["weight_decay"]), b1(h["beta1"]), m_coef(st.d * (1 - h["beta1"])),
        b2(h["beta2"]), v_coef(st.d * st.d * (1 - h["beta2"])), b3(st.b3),
        s_coef(st.d / st.d0 * (h.flag("safeguard_warmup") ? st.d : st.dlr)),
        decay(h.flag("decouple") ? 1 - h["weight_decay"] * st.dlr : 1.0), step(0), eps_d(0) {}
  // slots: s, p0, v, m (m only with momentum)
  T gradient(const T* p, const T* g, int64_t i) const { return sign * g[i] + l2 * p[i]; }

  void reduce(T* __restrict p, const T* __restrict g, T* const* s, int64_t i, double* sums) const {
    const T grad = gradient(p, g, i);
    sums[0] += static_cast<double>(grad) * static_cast<double>(s[1][i] - p[i]);
    if (Momentum) s[3][i] = b1 * s[3][i] + m_coef * grad;
    s[2][i] = b2 * s[2][i] + v_coef * grad * grad;
    const T acc = b3 * s[0][i] + s_coef * grad;
    s[0][i] = acc;
    sums[1] += std::abs(static_cast<double>(acc));
  }
  // The update pass: step = dlr (times the new d without momentum), eps_d = the new d * eps.
  ProdigyRule moving(double step_, double eps_d_) const {
    ProdigyRule r = *this;
    r.step = static_cast<T>(step_);
    r.eps_d = static_cast<T>(eps_d_);
    return r;
  }
  void operator()(T* __restrict p, const T* __restrict g, T* const* s, int64_t i) const {
    const T direction = Momentum ? s[3][i] : gradient(p, g, i);
    p[i] = p[i] * decay - step * direction / (std::sqrt(s[2][i]) + eps_d);
  }
};

struct Prodigy {
  static constexpr const char* name = "prodigy";
  static const Spec& spec() {
    static const Spec s{name,
            {{"lr"}, {"betas", kPair, "beta1", "beta2"}, {"beta3"}, {"eps"}, {"weight_decay"}, {"decouple", kFlag},
             {"use_bias_correction", kFlag}, {"safeguard_warmup", kFlag}, {"d0"}, {"d_coef"}, {"growth_rate"},
             {"maximize", kFlag}},
            {{"s"}, {"p0", "param"}, {"exp_avg_sq"}, {"exp_avg", "", "beta1"}},
            {{"d", 0.0}, {"d_max", 0.0}, {"d_numerator", 0.0}, {"k", 0.0}}};
    return s;
  }
  static Carry step_group(const std::vector<TensorPtrs<float>>& f32, const std::vector<TensorPtrs<double>>& f64,
                          const Hyper& h, int64_t) {
    const ProdigyState st(h);
    const Carry unchanged{{"d", h["d"]}, {"d_max", h["d_max"]}, {"d_numerator", h["d_numerator"]}, {"k", h["k"]}};
    if (h["lr"] == 0.0) return unchanged;  // prodigyopt: no moment moves, d_denom stays 0
    Carry out;
    with_flag(h["beta1"] != 0.0, [&](auto momentum) {
      const ProdigyRule<float, momentum()> rule_f32(h, st);
      const ProdigyRule<double, momentum()> rule_f64(h, st);
      double dot = 0.0, denom = 0.0;
      for (const Sums<2>& t : tensor_sums<2>(f32, rule_f32)) dot += t[0], denom += t[1];
      for (const Sums<2>& t : tensor_sums<2>(f64, rule_f64)) dot += t[0], denom += t[1];
      const double num = st.b3 * st.num + st.d / st.d0 * st.dlr * dot;
      if (denom == 0.0) {
        out = unchanged;
        return;
      }
      const double d_hat = h["d_coef"] * num / denom;
      double d = st.d == st.d0 ? std::max(st.d, d_hat) : st.d;
      const double d_max = std::max(st.d_max, d_hat);
      d = std::min(d_max, d * h["growth_rate"]);
      const double step = momentum() ? st.dlr : st.dlr * d;
      for_each_element(f32, rule_f32.moving(step, d * h["eps"]));
      for_each_element(f64, rule_f64.moving(step, d * h["eps"]));
      out = {{"d", d}, {"d_max", d_max}, {"d_numerator", num}, {"k", st.k + 1}};
    });
    return out;
  }
};

}  // namespace fastopt
