// The CUDA multi-tensor driver: every rule of src/cpp/optim/ over every tensor of a param group in one
// launch, as PyTorch's multi_tensor_apply does (ATen/native/cuda/MultiTensorApply.cuh), except that the
// list of tensors lives in device memory (uploaded once per step), so one launch covers any number.
//
// Each tensor is cut into chunks of kDeviceChunk elements; block b of the grid runs chunk b of the
// (tensor, chunk) table.  A thread loads 16 bytes of the param, the grad and each state slot into
// registers (4 floats or 2 doubles; scalar loads where an address is not 16-byte aligned), applies the
// rule to each element in registers, and stores the param and the states back: one pass over memory.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/multi_tensor.hpp"
#include "cuda/device_tensors.hpp"

namespace fastopt::cuda {

constexpr int64_t kDeviceChunk = 65536;  // elements per block (PyTorch's chunk size)
constexpr int kThreads = 512;

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("fastopt CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// Makes `device` current for its lifetime, then restores the caller's.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&saved_), "cudaGetDevice");
    if (device != saved_) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(saved_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int saved_ = 0;
};

struct ChunkRef {
  int32_t tensor, chunk;
};

// One element group in registers: W consecutive elements of the param, the grad and each state.
template <class T, int W>
struct Registers {
  T p[W], g[W], s[kMaxStates][W];
};

template <class T>
struct alignas(16) Vec16 {
  static constexpr int width = 16 / sizeof(T);
  T v[width];
};

// Applies the rule to the W elements held in r (grad transform first), all indices compile-time constants
// once unrolled, so r stays in registers.
template <class T, int W, class Rule>
__device__ __forceinline__ void apply(Registers<T, W>& r, const Rule& rule, bool transform, T scale, T limit) {
#pragma unroll
  for (int j = 0; j < W; ++j) {
    if (transform) r.g[j] = clamp_nan_safe(r.g[j] * scale, limit);
    T* const s[kMaxStates] = {r.s[0], r.s[1], r.s[2], r.s[3]};
    rule(r.p, r.g, s, j);
  }
}

template <class T, class Rule>
__global__ void __launch_bounds__(kThreads) multi_tensor_kernel(const TensorPtrs<T>* __restrict tensors,
                                                                 const ChunkRef* __restrict chunks, int num_states,
                                                                 bool transform, T scale, T limit, Rule rule) {
  const ChunkRef c = chunks[blockIdx.x];
  const TensorPtrs<T> t = tensors[c.tensor];
  const int64_t begin = static_cast<int64_t>(c.chunk) * kDeviceChunk;
  const int64_t len = t.n - begin < kDeviceChunk ? t.n - begin : kDeviceChunk;
  T* const p = t.param + begin;
  const T* const g = t.grad ? t.grad + begin : nullptr;
  T* s[kMaxStates];
  bool aligned = reinterpret_cast<uintptr_t>(p) % 16 == 0 && reinterpret_cast<uintptr_t>(g) % 16 == 0;
#pragma unroll
  for (int k = 0; k < kMaxStates; ++k) {
    s[k] = k < num_states ? t.state[k] + begin : nullptr;
    aligned = aligned && reinterpret_cast<uintptr_t>(s[k]) % 16 == 0;
  }
  constexpr int W = Vec16<T>::width;
  int64_t done = 0;
  if (aligned) {  // 16-byte loads and stores: W elements per thread per array
    const int64_t vectors = len / W;
    for (int64_t v = threadIdx.x; v < vectors; v += kThreads) {
      Registers<T, W> r;
      *reinterpret_cast<Vec16<T>*>(r.p) = reinterpret_cast<const Vec16<T>*>(p)[v];
      if (g) *reinterpret_cast<Vec16<T>*>(r.g) = reinterpret_cast<const Vec16<T>*>(g)[v];
#pragma unroll
      for (int k = 0; k < kMaxStates; ++k)
        if (k < num_states) *reinterpret_cast<Vec16<T>*>(r.s[k]) = reinterpret_cast<const Vec16<T>*>(s[k])[v];
      apply<T, W>(r, rule, transform, scale, limit);
      reinterpret_cast<Vec16<T>*>(p)[v] = *reinterpret_cast<const Vec16<T>*>(r.p);
#pragma unroll
      for (int k = 0; k < kMaxStates; ++k)
        if (k < num_states) reinterpret_cast<Vec16<T>*>(s[k])[v] = *reinterpret_cast<const Vec16<T>*>(r.s[k]);
    }
    done = vectors * W;
  }
  for (int64_t i = done + threadIdx.x; i < len; i += kThreads) {  // the tail, or every element when unaligned
    Registers<T, 1> r;
    r.p[0] = p[i];
    r.g[0] = g ? g[i] : T(0);
#pragma unroll
    for (int k = 0; k < kMaxStates; ++k) r.s[k][0] = k < num_states ? s[k][i] : T(0);
    apply<T, 1>(r, rule, transform, scale, limit);
    p[i] = r.p[0];
#pragma unroll
    for (int k = 0; k < kMaxStates; ++k)
      if (k < num_states) s[k][i] = r.s[k][0];
  }
}

// The (tensor, chunk) table of a list, and the tensors and the table copied to one device allocation
// (freed in stream order once the launch that reads it has run).
template <class T>
class DeviceTable {
 public:
  explicit DeviceTable(const DeviceTensors<T>& list) {
    for (size_t t = 0; t < list.tensors.size(); ++t)
      for (int64_t b = 0, c = 0; b < list.tensors[t].n; b += kDeviceChunk, ++c)
        chunks_.push_back({static_cast<int32_t>(t), static_cast<int32_t>(c)});
    if (chunks_.empty()) return;
    const size_t tensor_bytes = list.tensors.size() * sizeof(TensorPtrs<T>);
    const size_t offset = (tensor_bytes + 255) / 256 * 256;
    check(cudaMallocAsync(&memory_, offset + chunks_.size() * sizeof(ChunkRef), 0), "cudaMallocAsync");
    // From pageable memory: returns once the source has been staged, so the host vectors may go.
    check(cudaMemcpyAsync(memory_, list.tensors.data(), tensor_bytes, cudaMemcpyHostToDevice, 0), "cudaMemcpyAsync");
    check(cudaMemcpyAsync(static_cast<char*>(memory_) + offset, chunks_.data(), chunks_.size() * sizeof(ChunkRef),
                          cudaMemcpyHostToDevice, 0), "cudaMemcpyAsync");
    tensors_ = static_cast<const TensorPtrs<T>*>(memory_);
    device_chunks_ = reinterpret_cast<const ChunkRef*>(static_cast<char*>(memory_) + offset);
  }
  ~DeviceTable() {
    if (memory_) cudaFreeAsync(memory_, 0);
  }
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;

  unsigned blocks() const { return static_cast<unsigned>(chunks_.size()); }
  const TensorPtrs<T>* tensors() const { return tensors_; }
  const ChunkRef* chunks() const { return device_chunks_; }

 private:
  std::vector<ChunkRef> chunks_;
  void* memory_ = nullptr;
  const TensorPtrs<T>* tensors_ = nullptr;
  const ChunkRef* device_chunks_ = nullptr;
};

// The CUDA driver: what for_each_element (common/multi_tensor.hpp) is for host arrays, for a DeviceTensors
// list.  Chosen by overload resolution when an optimizer's step is instantiated with DeviceTensors<T>.
template <class T, class Rule>
void for_each_element(const DeviceTensors<T>& list, const Rule& rule) {
  const DeviceGuard guard(list.device);
  const DeviceTable<T> table(list);
  if (table.blocks() == 0) return;
  const GradTransform& tf = list.transform;
  multi_tensor_kernel<T, Rule><<<table.blocks(), kThreads, 0, 0>>>(
      table.tensors(), table.chunks(), list.num_states, !tf.identity(), static_cast<T>(tf.scale),
      static_cast<T>(tf.limit), rule);
  check(cudaGetLastError(), "optimizer kernel launch");
}

// The cautious option's per-tensor rescale needs a counting pass before the update (common/cautious.hpp),
// which this driver does not have: refused rather than run without the rescale.
template <class T, class Rule>
void for_each_element_cautious(const DeviceTensors<T>& list, const Rule& rule) {
  if (rule.cautious.on) throw std::invalid_argument("cautious=True is not supported on CUDA tensors (its per-tensor rescale is CPU-only)");
  for_each_element(list, rule);
}

}  // namespace fastopt::cuda
