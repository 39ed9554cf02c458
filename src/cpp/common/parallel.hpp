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
// Measured by bench/thresholds.py --unthresholded (a build with all three at 1; serial against 2
// warm threads, best of 15-25 alternating samples) on the 2-core AMD EPYC (AVX-512) VM shared with
// other jobs, 2026-11-27: 3 runs at load average 1.7-1.9, then 4 at 2-2.9.  A sleeping worker (after
// serial work, or on a busy machine) costs far more to wake: ~8 ms at load 4 on these 2 cores, so
// erring high is cheaper than low.
//
// The optimizer driver, elements summed over all tensors of a group (Adam, one float32 array):
// 2 threads lost at 16384 (0.98-1.00x: one 16384-element chunk, nothing to share) and won from
// 32768 on (1.35-1.39x, 1.5x at 65536) in every run.  Unchanged.
constexpr int64_t kSerialBelowElements = int64_t(1) << 15;
// The landscape grid, points (rosenbrock): 2 threads won from 128-256 points (1.0-1.13x at 256,
// 1.21-1.31x at 512, 1.44x at 1024, 1.77x at 4096) in every run.  Was 4096; 512 keeps a 2x margin.
constexpr int64_t kSerialBelowGridPoints = 512;
// The MLP, rows x parameters (about a forward's multiply-adds; 64-64-10 network, 4810 parameters):
// at load 1.7-1.9 2 threads won from 19240-38480 (4-8 rows: 1.11-1.16x at 8, 1.22x at 16, 1.36x
// at 32), but at load 2-2.9 they lost at every size from 16 rows to 256 (0.51-0.83x): its barrier
// waits for a descheduled thread.  Not conclusive: unchanged.
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
