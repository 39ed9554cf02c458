// The one multi-tensor loop every elementwise optimizer rule runs on.
//
// All tensors of a param group are cut into chunks of kChunk elements (a multiple of 64 bytes),
// and the (tensor, chunk) pairs are shared out by one OpenMP loop, so one huge tensor and
// ten thousand tiny ones keep every core equally busy.  Below kSerialBelow elements in total the
// fork/join would cost more than it saves, so small steps stay serial.
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/hd.hpp"
#include "common/parallel.hpp"

namespace fastopt {

constexpr int kMaxStates = 4;  // Adan: first moment, difference moment, second moment, previous grad

// Raw pointers to one tensor's param, grad and state arrays (all with n elements).
template <class T>
struct TensorPtrs {
  T* param;
  const T* grad;  // null for rules that read no gradient (Lookahead's sync)
  T* state[kMaxStates];
  int64_t n;
};

// |x| <= limit, keeping NaN (std::clamp's comparisons would turn it into a bound).
template <class T>
FASTOPT_HD inline T clamp_nan_safe(T x, T limit) {
  return x > limit ? limit : (x < -limit ? -limit : x);
}

constexpr int64_t kChunk = 16384;        // elements: 64 KiB of float32, 128 KiB of float64
constexpr int64_t kSerialBelow = kSerialBelowElements;  // measured: see common/parallel.hpp

// What a step does to the gradients before its rule reads them: g -> clamp(g * scale, -limit, limit)
// (clipping by global norm folded into `scale` with an AMP loss scale's 1/s, clipping by value in
// `limit`).  The driver applies it to each chunk as it hands the chunk to the rule, in a per-thread
// buffer the chunk's size (allocated before the parallel region), so every rule stays as written and the identity costs one branch per step.
// Set for one step, on the calling thread, by GradTransformScope (the bindings do).
struct GradTransform {
  double scale = 1.0;
  double limit = std::numeric_limits<double>::infinity();
  bool identity() const { return scale == 1.0 && limit == std::numeric_limits<double>::infinity(); }
};

inline GradTransform& current_grad_transform() {
  thread_local GradTransform t;
  return t;
}

class GradTransformScope {
 public:
  explicit GradTransformScope(GradTransform t) : saved_(current_grad_transform()) { current_grad_transform() = t; }
  ~GradTransformScope() { current_grad_transform() = saved_; }
  GradTransformScope(const GradTransformScope&) = delete;
  GradTransformScope& operator=(const GradTransformScope&) = delete;

 private:
  GradTransform saved_;
};

// The (tensor, chunk) pairs of a group, in tensor order (a tensor's chunks are consecutive).
struct Chunk { int64_t tensor, begin, end; };

template <class T>
std::vector<Chunk> chunks_of(const std::vector<TensorPtrs<T>>& tensors, int64_t& total) {
  std::vector<Chunk> work;
  total = 0;
  for (int64_t t = 0; t < static_cast<int64_t>(tensors.size()); ++t) {
    const int64_t n = tensors[t].n;
    total += n;
    for (int64_t b = 0; b < n; b += kChunk) work.push_back({t, b, b + kChunk < n ? b + kChunk : n});
  }
  return work;
}

// Calls visit(w, g) for every chunk w of `work`, shared out by one OpenMP loop, with g the chunk's
// gradient as the step's GradTransform makes it (the tensor's own, or a transformed copy; null for
// rules that read none).  Both passes of a step (for_each_element, and tensor_sums in
// common/tensor_sums.hpp) run through here, so they see the same gradients.
template <class T, class Visit>
void for_each_chunk(const std::vector<TensorPtrs<T>>& tensors, const std::vector<Chunk>& work, int64_t total,
                    const Visit& visit) {
  const int64_t count = static_cast<int64_t>(work.size());
  const int threads = threads_for(total, kSerialBelow);
  (void)threads;
  const GradTransform transform = current_grad_transform();  // read here: OpenMP's threads have their own
  auto own_grad = [&](int64_t w) {
    const TensorPtrs<T>& t = tensors[work[w].tensor];
    return t.grad ? t.grad + work[w].begin : nullptr;
  };
  if (transform.identity()) {
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (int64_t w = 0; w < count; ++w) visit(w, own_grad(w));
    return;
  }
  const T scale = static_cast<T>(transform.scale), limit = static_cast<T>(transform.limit);
  // One chunk-sized buffer per thread, allocated here: an allocation failure must not throw inside the region.
  std::vector<T> buffers(static_cast<size_t>(threads) * static_cast<size_t>(kChunk));
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    T* const buffer = buffers.data() + thread_index() * kChunk;
#if FASTOPT_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t w = 0; w < count; ++w) {
      const T* __restrict g = own_grad(w);
      const int64_t len = work[w].end - work[w].begin;
      T* __restrict out = buffer;
      if (g) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) out[i] = clamp_nan_safe(g[i] * scale, limit);
      }
      visit(w, g ? out : nullptr);
    }
  }
}

// The chunk's view of its tensor's state slots.
template <class T>
struct ChunkStates {
  T* s[kMaxStates];
  ChunkStates(const TensorPtrs<T>& t, int64_t b) {
    static_assert(kMaxStates == 4, "list every state slot below");
    for (int k = 0; k < kMaxStates; ++k) s[k] = t.state[k] ? t.state[k] + b : nullptr;
  }
};

// A rule with per-tensor scalars (LAMB's trust ratio, read from a first pass) declares
// `Rule for_tensor(int64_t t) const`: the copy of itself that tensor t's chunks run.  Rules without one
// run as they are.
template <class Rule, class = void>
struct HasForTensor : std::false_type {};
template <class Rule>
struct HasForTensor<Rule, std::void_t<decltype(std::declval<const Rule&>().for_tensor(int64_t{}))>> : std::true_type {};

// Runs rule(p, g, s, i) for every element i of every tensor.  The rule reads p[i], g[i] and
// s[k][i] once and writes p[i] and s[k][i] once: one pass over memory, no temporaries.
template <class T, class Rule>
void for_each_element(const std::vector<TensorPtrs<T>>& tensors, const Rule& rule) {
  int64_t total = 0;
  const std::vector<Chunk> work = chunks_of(tensors, total);
  for_each_chunk(tensors, work, total, [&](int64_t w, const T* g_chunk) {
    const TensorPtrs<T>& t = tensors[work[w].tensor];
    const int64_t b = work[w].begin, len = work[w].end - work[w].begin;
    T* __restrict p = t.param + b;
    const T* __restrict g = g_chunk;
    const ChunkStates<T> states(t, b);
    T* const* s = states.s;
    auto run = [&](const auto rule_copy) {  // a local copy: its scalars stay in registers through the loop
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) rule_copy(p, g, s, i);
    };
    if constexpr (HasForTensor<Rule>::value) run(rule.for_tensor(work[w].tensor));
    else run(rule);
  });
}

}  // namespace fastopt
