// Thread control: the one place that talks to the OpenMP runtime.
//
// The thread count is one process-wide setting, not OpenMP's per-thread ICV (omp_set_num_threads
// changes only the calling thread's), so set_num_threads from any Python thread applies to every
// thread.  Every parallel region passes it explicitly: num_threads(fastopt::num_threads()).
#pragma once
#include <atomic>
#include <cstdint>
#if FASTOPT_HAVE_OPENMP
#include <omp.h>
#endif

namespace fastopt {

// Below these sizes a fork/join costs more than the second thread saves, so the work stays serial.
// (Gathered here from the driver, the grid and the MLP, with the values they had.)
//
// The optimizer driver, elements summed over all tensors of a group.
constexpr int64_t kSerialBelowElements = int64_t(1) << 15;
// The landscape grid, points.
constexpr int64_t kSerialBelowGridPoints = 4096;
// The MLP, batch x parameters (about the forward's multiply-adds).
constexpr int64_t kSerialBelowMlpFlops = int64_t(1) << 17;

namespace detail {

inline int default_num_threads() {
#if FASTOPT_HAVE_OPENMP
  return omp_get_max_threads();  // OMP_NUM_THREADS, or the cores, as the runtime read them at start
#else
  return 1;
#endif
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{default_num_threads()};
  return n;
}

}  // namespace detail

// Threads every parallel region uses.
inline int num_threads() { return detail::thread_setting().load(std::memory_order_relaxed); }

// n >= 1 (the binding checks); applies to every thread of the process.  A serial build keeps 1.
inline void set_num_threads(int n) {
#if FASTOPT_HAVE_OPENMP
  detail::thread_setting().store(n, std::memory_order_relaxed);
#else
  (void)n;
#endif
}

// Threads for `work` units of a job that stays serial below `serial_below` units.
inline int threads_for(int64_t work, int64_t serial_below) { return work < serial_below ? 1 : num_threads(); }

// Inside a parallel region: this thread's index and the team's size (0 and 1 outside one).
inline int64_t thread_index() {
#if FASTOPT_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline int64_t team_size() {
#if FASTOPT_HAVE_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace fastopt
