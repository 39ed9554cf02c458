// Elementwise helpers whose NaN behaviour matches NumPy and PyTorch, for use inside the rules.
#pragma once

namespace fastopt {

// max(a, b) that returns NaN when either is NaN (like np.maximum and torch.maximum; unlike std::fmax,
// which drops the NaN, and `a > b ? a : b`, which drops a NaN in a).  Branch-free once vectorised.
template <class T>
inline T nan_max(T a, T b) {
  return (a > b || a != a) ? a : b;
}

}  // namespace fastopt
