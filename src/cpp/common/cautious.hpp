// The cautious option of the Adam family and Lion (Liang et al., 2024, "Cautious Optimizers: Improving
// Training with One Line of Code"): an update component is kept only where it points the way of the
// gradient.  fastopt applies the mask without the paper's per-tensor rescaling by d / (nnz(mask) + 1)
// (the multi-tensor driver has no per-tensor reduction), i.e. with the scaling factor of the paper's
// general update equal to 1: kept components move exactly as the base rule moves them.
#pragma once
#include "common/hd.hpp"

namespace fastopt {

// 1 where an update component points the way of the gradient (update * grad > 0), else 0 (and 1 when
// the option is off).  Multiplied into the update rather than selecting, so a NaN update stays NaN
// (NaN * 0), as in optax's contrib.cautious.
template <class T>
FASTOPT_HD inline T cautious_keep(bool cautious, T update, T grad) {
  return (!cautious || update * grad > T(0)) ? T(1) : T(0);
}

}  // namespace fastopt
