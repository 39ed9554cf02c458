// Host stand-ins for the CUDA runtime, so that the kernel of src/cpp/cuda/multi_tensor.cuh runs as plain loops on
// the CPU (tools/cuda_emulation/run.sh): a check of the CUDA driver on machines without a GPU.
#pragma once
#include <cstdlib>
#include <cstring>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
struct emu_dim { unsigned x, y, z; };
inline emu_dim threadIdx, blockIdx;
typedef int cudaError_t;
enum { cudaSuccess = 0 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice };
inline const char* cudaGetErrorString(cudaError_t) { return "err"; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return 0; }
inline cudaError_t cudaSetDevice(int) { return 0; }
inline cudaError_t cudaMallocAsync(void** p, size_t n, int) { *p = std::malloc(n); return 0; }
inline cudaError_t cudaFreeAsync(void* p, int) { std::free(p); return 0; }
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, int) { std::memcpy(d, s, n); return 0; }
inline cudaError_t cudaGetLastError() { return 0; }
template <class T, class Rule, class... A> void emulate(unsigned blocks, A... args);
