// Per-layer matrix jobs (factor updates, eigen-decompositions, preconditioning) shared between the
// threads as whole tasks: OpenMP with a dynamic schedule over tasks taken largest first, so the few
// big layers start at once and the small ones fill in; BLAS and LAPACK single-threaded inside.
// Serial when the whole job is small.  fn(task) must not throw (no exception may leave the region).
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "common/parallel.hpp"

namespace fastopt::curvature {

// Below this many flops in all tasks together, one thread.
constexpr double kSerialBelowTaskFlops = 4e6;

template <class Fn>
void run_layer_tasks(const std::vector<double>& flops, const Fn& fn) {
  const int64_t n = static_cast<int64_t>(flops.size());
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return flops[i] > flops[j]; });
  const double total = std::accumulate(flops.begin(), flops.end(), 0.0);
  const int threads =
      total < kSerialBelowTaskFlops || n < 2 ? 1 : static_cast<int>(std::min<int64_t>(num_threads(), n));
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
  for (int64_t t = 0; t < n; ++t) fn(order[t]);
}

}  // namespace fastopt::curvature
