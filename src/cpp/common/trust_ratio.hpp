// The layer-wise trust ratio of LAMB and LARS (You et al.), as optax's scale_by_trust_ratio computes
// it from a tensor's sums of squares: coefficient * |p| / (|u| + eps), and 1 when either norm is zero
// (a tensor at the origin, or one that would not move, is left to the plain update).
#pragma once
#include <cmath>

namespace fastopt {

inline double trust_ratio(double param_sq, double update_sq, double coefficient, double eps) {
  const double param_norm = std::sqrt(param_sq), update_norm = std::sqrt(update_sq);
  if (param_norm == 0.0 || update_norm == 0.0) return 1.0;
  return coefficient * param_norm / (update_norm + eps);
}

}  // namespace fastopt
