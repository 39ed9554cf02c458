// The sum of squares of every element of many tensors, in one parallel pass: the global gradient norm
// that clipping by norm divides by, and the test for a non-finite gradient (any NaN or Inf makes the
// sum NaN or Inf).  Accumulated in double; chunks as in the multi-tensor driver.
#pragma once
#include <cstdint>
#include <vector>

#include "common/multi_tensor.hpp"

namespace fastopt {

template <class T>
struct ConstSpan {
  const T* data;
  int64_t n;
};

template <class T>
double sum_of_squares(const std::vector<ConstSpan<T>>& tensors) {
  struct Work { const T* begin; int64_t len; };
  std::vector<Work> work;
  int64_t total = 0;
  for (const ConstSpan<T>& t : tensors) {
    total += t.n;
    for (int64_t b = 0; b < t.n; b += kChunk) work.push_back({t.data + b, b + kChunk < t.n ? kChunk : t.n - b});
  }
  const int64_t count = static_cast<int64_t>(work.size());
  const int threads = threads_for(total, kSerialBelow);
  (void)threads;
  double sum = 0.0;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1) reduction(+ : sum)
#endif
  for (int64_t w = 0; w < count; ++w) {
    const T* __restrict g = work[w].begin;
    double part = 0.0;
#pragma omp simd reduction(+ : part)
    for (int64_t i = 0; i < work[w].len; ++i) part += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    sum += part;
  }
  return sum;
}

}  // namespace fastopt
