// Elementwise helpers whose NaN behaviour matches NumPy and PyTorch, for use inside the rules.
#pragma once
#include "common/hd.hpp"

namespace fastopt {

// max(a, b) that returns NaN when either is NaN (like np.maximum and torch.maximum; unlike std::fmax,
// which drops the NaN, and `a > b ? a : b`, which drops a NaN in a).  Branch-free once vectorised.
template <class T>
FASTOPT_HD inline T nan_max(T a, T b) {
  return (a > b || a != a) ? a : b;
}

// min(max(x, lo), hi) that keeps a NaN x (as torch.clamp and np.clip do); lo <= hi.
template <class T>
FASTOPT_HD inline T nan_clamp(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// sign(x) as -1, 0 or 1, keeping a NaN (as np.sign and torch.sign do).
template <class T>
FASTOPT_HD inline T nan_sign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
}

}  // namespace fastopt
