// Thread-count control: the one place that talks to the OpenMP runtime.
#pragma once
#if FASTOPT_HAVE_OPENMP
#include <omp.h>
#endif

namespace fastopt {

inline int num_threads() {
#if FASTOPT_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline void set_num_threads(int n) {
#if FASTOPT_HAVE_OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace fastopt
