// Inverted dropout with a counter-based mask: keep(seed, call, layer, i) is a pure hash, so the
// backward pass recomputes the forward's mask instead of storing it, and the mask does not
// depend on how rows are shared between threads.
//
// The stage is a elementwise factor m_i (1 / (1 - p) kept, 0 dropped): forward a = m * f(z),
// backward da * m, both fused into the bias + activation passes (nn/bias_activation.hpp).
#pragma once
#include <cstdint>

namespace fastopt::nn {

// SplitMix64's finaliser: a bijective mix with good avalanche.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct DropoutMask {
  uint64_t key;        // mixes seed, call counter and layer
  uint64_t threshold;  // keep when the top 32 hash bits are >= threshold (= p * 2^32)

  DropoutMask(uint64_t seed, uint64_t call, uint64_t layer, double p)
      : key(mix64(mix64(seed ^ 0x6a09e667f3bcc909ULL) + mix64(call) * 3 + layer)),
        threshold(static_cast<uint64_t>(p * 4294967296.0)) {}

  bool keep(uint64_t i) const { return (mix64(key + i * 0x9e3779b97f4a7c15ULL) >> 32) >= threshold; }

  // m_i, multiplied (not selected) so a NaN in a dropped unit stays NaN, as torch's dropout.
  template <class T>
  T factor(uint64_t i, T keep_scale) const { return keep(i) ? keep_scale : T(0); }
};

}  // namespace fastopt::nn
