// Labels drawn from the model's softmax, for the true Fisher: counter-based, so a draw depends only
// on (key, row, draw) and not on batching or threads.  Used by the MC Fisher products
// (curvature/mlp_curvature.hpp) and by the MLP's sampled backward pass (nn/layer_capture.hpp).
#pragma once
#include <cmath>
#include <cstdint>

#include "nn/dropout.hpp"

namespace fastopt::nn {

// Uniform in [0, 1) for (key, row, draw): 53 bits of a counter hash.
inline double uniform_draw(uint64_t key, int64_t row, int64_t draw) {
  const uint64_t h = mix64(key + mix64(static_cast<uint64_t>(row)) * 3 + static_cast<uint64_t>(draw));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// The class drawn from softmax(logits) by inverse CDF at uniform w.
template <class T>
int64_t sample_class(const T* logits, double lse, int64_t k, double w) {
  double cdf = 0.0;
  for (int64_t j = 0; j + 1 < k; ++j) {
    cdf += std::exp(static_cast<double>(logits[j]) - lse);
    if (w < cdf) return j;
  }
  return k - 1;  // the rest of the mass, rounding included
}

}  // namespace fastopt::nn
