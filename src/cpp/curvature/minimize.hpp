// fastopt.minimize's native core: the methods by name, their settings, and one run from x0.
//
// Line-search methods are a Direction inside run_descent (descent.hpp); the trust-region methods
// have their own iteration.  Every method returns the same Result.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "curvature/bfgs.hpp"
#include "curvature/descent.hpp"
#include "curvature/lbfgs.hpp"
#include "curvature/newton.hpp"
#include "curvature/newton_cg.hpp"
#include "curvature/nonlinear_cg.hpp"
#include "curvature/objective.hpp"
#include "curvature/result.hpp"
#include "curvature/trust_region.hpp"

namespace fastopt::curvature {

// Everything a method may be tuned by; each method reads its own fields (fastopt.minimize checks
// that the options given are the method's).
struct MethodSettings {
  std::string method = "lbfgs";
  DescentOptions descent;
  int64_t history_size = 10;       // lbfgs: pairs kept
  std::string cg_variant = "PR+";  // cg: FR, PR+ or HS
  int64_t restart_every = 0;       // cg: steepest-descent restart period (0: n)
  double damping = 1e-8;           // saddle-free-newton: floor of |lambda_i|
  int64_t cg_maxiter = 0;          // newton-cg: CG iterations per direction (0: 20 n)
  TrustRegionOptions trust;        // trust-ncg
};

struct MethodInfo {
  const char* name;
  const char* summary;
  bool needs_hessian;  // a dense Hessian each iteration
  bool needs_hessp;    // Hessian-vector products
};

inline const std::vector<MethodInfo>& method_infos() {
  static const std::vector<MethodInfo> infos = {
      {"lbfgs", "limited-memory BFGS (two-loop recursion), strong Wolfe line search", false, false},
      {"bfgs", "BFGS with a dense inverse Hessian, strong Wolfe line search", false, false},
      {"cg", "nonlinear conjugate gradient (FR, PR+ or HS) with restarts, strong Wolfe line search", false, false},
      {"newton", "Newton with H + tau I (tau raised until Cholesky succeeds), line search from step 1", true, false},
      {"saddle-free-newton", "Newton on |H| (eigenvalues' absolute values), line search from step 1", true, false},
      {"newton-cg", "line-search Newton-CG: truncated CG on Hessian-vector products", false, true},
      {"trust-ncg", "trust-region Newton-CG (Steihaug's CG on Hessian-vector products)", false, true},
  };
  return infos;
}

inline const MethodInfo& method_info(const std::string& name) {
  for (const auto& m : method_infos())
    if (name == m.name) return m;
  std::string names;
  for (const auto& m : method_infos()) names += (names.empty() ? "" : ", ") + std::string(m.name);
  throw std::invalid_argument("method: unknown method '" + name + "'; choose from " + names);
}

// The direction of a line-search method (nullptr for the others).
inline std::unique_ptr<Direction> make_direction(const MethodSettings& s) {
  if (s.method == "lbfgs") {
    if (s.history_size < 1) throw std::invalid_argument("history_size: must be >= 1, got " + std::to_string(s.history_size));
    return std::make_unique<Lbfgs>(s.history_size);
  }
  if (s.method == "bfgs") return std::make_unique<Bfgs>();
  if (s.method == "cg") return std::make_unique<NonlinearCg>(cg_variant(s.cg_variant), s.restart_every);
  if (s.method == "newton") return std::make_unique<ModifiedNewton>();
  if (s.method == "saddle-free-newton") {
    if (!(s.damping > 0 && std::isfinite(s.damping)))
      throw std::invalid_argument("damping: must be a finite number > 0, got " + std::to_string(s.damping));
    return std::make_unique<SaddleFreeNewton>(s.damping);
  }
  if (s.method == "newton-cg") {
    if (s.cg_maxiter < 0) throw std::invalid_argument("cg_maxiter: must be >= 0, got " + std::to_string(s.cg_maxiter));
    return std::make_unique<NewtonCg>(s.cg_maxiter);
  }
  method_info(s.method);  // throws for unknown names
  return nullptr;
}

// Minimises obj from x0 (obj.dim() entries).  `observe` sees every accepted iterate.
inline Result minimize(Objective& obj, const double* x0, const MethodSettings& s, const Observer& observe) {
  const int64_t n = obj.dim();
  Result res;
  res.x.assign(x0, x0 + n);
  res.g.resize(n);
  std::unique_ptr<Direction> direction = make_direction(s);
  if (s.method == "trust-ncg") check_trust_region(s.trust);
  res.f = obj.value_grad(res.x.data(), res.g.data());
  if (observe) observe({0, res.x.data(), res.f, res.g.data(), n, obj.nfev});
  RunResult run;
  if (direction) {
    DescentState state(std::move(direction));
    run = run_descent(obj, res.x.data(), res.f, res.g.data(), state, s.descent, observe);
  } else {
    run = run_trust_ncg(obj, res.x.data(), res.f, res.g.data(), s.descent, s.trust, observe);
  }
  res.nit = run.nit;
  res.status = run.status;
  res.message = run.message;
  res.weak_steps = std::move(run.weak_steps);
  res.nfev = obj.nfev, res.njev = obj.njev, res.nhev = obj.nhev;
  return res;
}

}  // namespace fastopt::curvature
