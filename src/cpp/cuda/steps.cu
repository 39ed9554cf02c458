// Every optimizer of optim/all.hpp instantiated for the CUDA driver, the grad-norm reduction, and the few
// CUDA runtime facts the bindings report.  The rules are the ones the CPU driver runs (FASTOPT_HD).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <tuple>

#include "cuda/multi_tensor.cuh"
#include "optim/all.hpp"

namespace fastopt::cuda {

template <class Opt, class T>
bool run_on_device(const DeviceTensors<T>& tensors, const Hyper& h, int64_t step) {
  if constexpr (RunsOnDevice<Opt, T>::value) Opt::template step<T, DeviceTensors<T>>(tensors, h, step);
  else throw std::invalid_argument(std::string("the optimizer '") + Opt::name + "' has no CUDA kernel (it reduces over each tensor before updating; CPU only)");
  return true;
}

template <class T>
void device_step(const std::string& name, const DeviceTensors<T>& tensors, const Hyper& h, int64_t step) {
  bool found = false;
  std::apply(
      [&](auto... opt) {
        ((!found && name == decltype(opt)::name ? (found = true, run_on_device<decltype(opt)>(tensors, h, step))
                                                : false),
         ...);
      },
      AllOptimizers{});
  if (!found) throw std::invalid_argument("no CUDA kernel for the optimizer '" + name + "'");
}

namespace {

// Each block sums the squares of its chunk's grad elements in double and adds its part to *sum.
template <class T>
__global__ void __launch_bounds__(kThreads) sum_of_squares_kernel(const TensorPtrs<T>* __restrict tensors,
                                                                   const ChunkRef* __restrict chunks, double* sum) {
  const ChunkRef c = chunks[blockIdx.x];
  const TensorPtrs<T> t = tensors[c.tensor];
  const int64_t begin = static_cast<int64_t>(c.chunk) * kDeviceChunk;
  const int64_t len = t.n - begin < kDeviceChunk ? t.n - begin : kDeviceChunk;
  double part = 0.0;
  for (int64_t i = threadIdx.x; i < len; i += kThreads) {
    const double x = static_cast<double>(t.grad[begin + i]);
    part += x * x;
  }
  for (int offset = 16; offset > 0; offset /= 2) part += __shfl_down_sync(0xffffffffu, part, offset);
  __shared__ double warps[kThreads / 32];
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = part;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int w = 0; w < kThreads / 32; ++w) total += warps[w];
    atomicAdd(sum, total);
  }
}

}  // namespace

template <class T>
double device_sum_of_squares(const DeviceTensors<T>& tensors) {
  const DeviceGuard guard(tensors.device);
  const DeviceTable<T> table(tensors);
  if (table.blocks() == 0) return 0.0;
  double* sum = nullptr;
  check(cudaMallocAsync(reinterpret_cast<void**>(&sum), sizeof(double), 0), "cudaMallocAsync");
  double result = 0.0;
  cudaError_t e = cudaMemsetAsync(sum, 0, sizeof(double), 0);
  if (e == cudaSuccess) {
    sum_of_squares_kernel<T><<<table.blocks(), kThreads, 0, 0>>>(table.tensors(), table.chunks(), sum);
    e = cudaGetLastError();
  }
  if (e == cudaSuccess) e = cudaMemcpy(&result, sum, sizeof(double), cudaMemcpyDeviceToHost);
  cudaFreeAsync(sum, 0);
  check(e, "grad sum of squares");
  return result;
}

template void device_step<float>(const std::string&, const DeviceTensors<float>&, const Hyper&, int64_t);
template void device_step<double>(const std::string&, const DeviceTensors<double>&, const Hyper&, int64_t);
template double device_sum_of_squares<float>(const DeviceTensors<float>&);
template double device_sum_of_squares<double>(const DeviceTensors<double>&);

int device_of(const void* address) {
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, address) != cudaSuccess) {
    cudaGetLastError();  // clear the error: an address CUDA does not know is host memory
    return -1;
  }
  return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged ? attr.device : -1;
}

int runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

std::string device_name(int device) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

}  // namespace fastopt::cuda
