// The reduction pass of the multi-tensor driver: K sums per tensor, accumulated over the same chunks
// and threads as a step (common/multi_tensor.hpp), for rules that need per-tensor norms (LAMB, LARS,
// StableAdamW, the cautious rescale) or group-wide sums (Prodigy) before they update.
//
// A two-pass rule declares
//   void reduce(T* p, const T* g, T* const* s, int64_t i, double* sums) const;   // sums[k] += ...
// which reads an element (and may write its state: LAMB's moments, so the update pass reads them
// back instead of recomputing them), then an update pass runs the rule's for_tensor(t) copy, holding
// tensor t's scalars, as for_each_element runs any rule.  Sums are accumulated in double; each chunk
// keeps its own partial sums and a tensor's are added in chunk order afterwards, so the result does
// not depend on the number of threads (a resumed run equals an uninterrupted one on any machine).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "common/multi_tensor.hpp"

namespace fastopt {

template <int K>
using Sums = std::array<double, K>;

// The K sums of rule.reduce over every element, per tensor (in the order of `tensors`).
template <int K, class T, class Rule>
std::vector<Sums<K>> tensor_sums(const std::vector<TensorPtrs<T>>& tensors, const Rule& rule) {
  int64_t total = 0;
  const std::vector<Chunk> work = chunks_of(tensors, total);
  std::vector<Sums<K>> partial(work.size());
  for_each_chunk(tensors, work, total, [&](int64_t w, const T* g_chunk) {
    const TensorPtrs<T>& t = tensors[work[w].tensor];
    const int64_t b = work[w].begin, len = work[w].end - work[w].begin;
    T* __restrict p = t.param + b;
    const T* __restrict g = g_chunk;
    const ChunkStates<T> states(t, b);
    double acc[K] = {};
#pragma omp simd reduction(+ : acc[:K])
    for (int64_t i = 0; i < len; ++i) rule.reduce(p, g, states.s, i, acc);
    for (int k = 0; k < K; ++k) partial[w][k] = acc[k];
  });
  std::vector<Sums<K>> out(tensors.size(), Sums<K>{});
  for (size_t w = 0; w < work.size(); ++w)
    for (int k = 0; k < K; ++k) out[work[w].tensor][k] += partial[w][k];
  return out;
}

// A rule run with one scalar per tensor: for_tensor(t) is the rule holding scalars[t] (its with()).
template <class Rule, class S>
struct PerTensor {
  const Rule& rule;
  const std::vector<S>& scalars;
  auto for_tensor(int64_t t) const { return rule.with(scalars[t]); }
};

// The two passes of a per-tensor rule: K sums per tensor, scalar(sums, n) -> that tensor's scalar,
// then the update pass with it.
template <int K, class T, class Rule, class Scalar>
void for_each_element_per_tensor(const std::vector<TensorPtrs<T>>& tensors, const Rule& rule, const Scalar& scalar) {
  const std::vector<Sums<K>> sums = tensor_sums<K>(tensors, rule);
  using S = decltype(scalar(sums[0], int64_t{}));
  std::vector<S> scalars(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t) scalars[t] = scalar(sums[t], tensors[t].n);
  for_each_element(tensors, PerTensor<Rule, S>{rule, scalars});
}

}  // namespace fastopt
