// The CUDA side of the optimizer kernels as plain C++ (no CUDA header), for the bindings to call.
//
// A DeviceTensors list is a param group's tensors on one GPU: the same TensorPtrs the CPU driver takes,
// holding device addresses.  Passing it to an optimizer's step (Opt::step<T, DeviceTensors<T>>) selects
// the CUDA driver (cuda/multi_tensor.cuh) in place of the OpenMP one: one rule, two drivers.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/hyper.hpp"
#include "common/multi_tensor.hpp"

namespace fastopt::cuda {

template <class T>
struct DeviceTensors {
  std::vector<TensorPtrs<T>> tensors;  // device addresses; grad null for rules that read none
  int num_states = 0;                  // state slots the rule indexes (the driver loads only these)
  int device = 0;                      // the GPU every address lives on
  GradTransform transform{};           // g -> clamp(g * scale, -limit, limit), applied as each grad is loaded
};

// Optimizers whose step takes a DeviceTensors list; those with a reduction pass (LAMB, LARS, StableAdamW,
// Prodigy: common/tensor_sums.hpp) have a host step only.
template <class Opt, class T, class = void>
struct RunsOnDevice : std::false_type {};
template <class Opt, class T>
struct RunsOnDevice<Opt, T, std::void_t<decltype(Opt::template step<T, DeviceTensors<T>>(
                                std::declval<const DeviceTensors<T>&>(), std::declval<const Hyper&>(), int64_t{}))>>
    : std::true_type {};

// One step of the optimizer called `name` over `tensors` on the GPU, launched on the device's legacy
// default stream (ordered with CuPy's and torch's default streams); returns once it is enqueued.
// Throws std::invalid_argument for an unknown name and std::runtime_error for a CUDA error.
template <class T>
void device_step(const std::string& name, const DeviceTensors<T>& tensors, const Hyper& h, int64_t step);

// The sum of squares of every grad element (accumulated in double on the GPU; waits for the result).
template <class T>
double device_sum_of_squares(const DeviceTensors<T>& tensors);

// The GPU whose memory `address` is (device or managed memory), or -1 for host memory.
int device_of(const void* address);

int runtime_version();  // e.g. 13000 for CUDA 13.0
int device_count();     // 0 where no GPU or no driver is visible
std::string device_name(int device);

}  // namespace fastopt::cuda
