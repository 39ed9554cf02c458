/* STREAM's triad a[i] = b[i] + s*c[i] in float32, and its in-place form a[i] += s*c[i] (the access
   pattern of an optimizer step: every array written is read first).  OpenMP over static blocks, like
   fastopt's driver.  bench/triad.py compiles this file once with the system C compiler and calls it
   through ctypes. */
#include <stdint.h>

void triad(float* restrict a, const float* restrict b, const float* restrict c, float s, int64_t n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

void triad_in_place(float* restrict a, const float* restrict c, float s, int64_t n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] += s * c[i];
}

/* The memory traffic of an optimizer step with no arithmetic to speak of: read g, read and write p
   and `states` state arrays (0 to 4, fastopt's kMaxStates; the unused pointers may be null).  An optimizer step that runs
   as fast as this on the same arrays is at the memory wall of its own access pattern.  (The branches
   are loop-invariant: GCC and Clang unswitch them at -O3, so each case vectorises.) */
void same_traffic(float* restrict p, const float* restrict g, float* restrict s0, float* restrict s1,
                  float* restrict s2, float* restrict s3, int states, int64_t n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    p[i] -= 1e-30f * gi;
    if (states > 0) s0[i] += gi;
    if (states > 1) s1[i] += gi;
    if (states > 2) s2[i] += gi;
    if (states > 3) s3[i] += gi;
  }
}
