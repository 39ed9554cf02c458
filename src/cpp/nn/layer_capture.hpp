// What a curvature optimizer of the K-FAC family asks the MLP's forward_backward to record, per
// dense layer l (in -> out), for B rows:
//   a (B, in + 1) = [a_{l-1}, 1]   the layer's inputs with the homogeneous coordinate (the bias column)
//   g (B, out)    = dloss_i / dz_l the per-example gradients of the pre-activations: B times the
//                                  backward pass's dz of the batch-mean loss (kfac-pytorch's scaling)
// fisher empirical: g from the data's labels (the ordinary backward pass, copied).
// fisher true:      g from labels y~ drawn from the model's softmax (nn/sampling.hpp, keyed by
//                   (seed, calls, row)) and back-propagated by a second input-side pass, so that
//                   E_y~[g g^T] is the true Fisher's factor; the parameter gradients stay the data's.
// The MLP fills it inside its OpenMP region, each thread its own rows; without a capture nothing of
// this runs.  `calls` counts the captures (the sampled labels' counter, saved for exact resume).
#pragma once
#include <cstdint>
#include <vector>

#include "nn/dropout.hpp"
#include "nn/layout.hpp"

namespace fastopt::nn {

template <class T>
struct LayerCapture {
  std::vector<Layer> layers;  // the network's layout
  bool sampled = false;       // true Fisher: labels drawn from the softmax
  uint64_t seed = 0;
  uint64_t calls = 0;
  int64_t batch = 0;                   // rows of the last capture
  std::vector<std::vector<T>> a, g;    // per layer: (batch, in + 1), (batch, out)

  LayerCapture(const std::vector<Layer>& layout, bool sampled_labels, uint64_t seed_)
      : layers(layout), sampled(sampled_labels), seed(seed_), a(layout.size()), g(layout.size()) {}

  // Whether this capture was made for a network of the layout `other`.
  bool fits(const std::vector<Layer>& other) const {
    if (other.size() != layers.size()) return false;
    for (size_t l = 0; l < layers.size(); ++l)
      if (other[l].in != layers[l].in || other[l].out != layers[l].out) return false;
    return true;
  }

  void reserve(int64_t rows) {
    for (size_t l = 0; l < layers.size(); ++l) {
      if (static_cast<int64_t>(a[l].size()) < rows * (layers[l].in + 1)) a[l].resize(rows * (layers[l].in + 1));
      if (static_cast<int64_t>(g[l].size()) < rows * layers[l].out) g[l].resize(rows * layers[l].out);
    }
    batch = rows;
  }

  // The key of this capture's sampled labels.
  uint64_t key() const { return mix64(mix64(seed ^ 0xbb67ae8584caa73bULL) + mix64(calls) * 5); }
};

}  // namespace fastopt::nn
