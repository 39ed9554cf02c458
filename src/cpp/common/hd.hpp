// FASTOPT_HD marks a function the CPU driver and the CUDA driver both call: __host__ __device__ when nvcc
// compiles it, nothing for the host compiler.  The per-element rules (src/cpp/optim/*.hpp) and the helpers
// they call carry it, so each rule is written once for both drivers.
#pragma once

#if defined(__CUDACC__)
#define FASTOPT_HD __host__ __device__
#else
#define FASTOPT_HD
#endif
