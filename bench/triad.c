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
