// The multi-tensor driver for params, grads and state that are not all float32: the same rules, run on
// float32 tiles.
//
// Each (tensor, chunk) work unit, shared out by OpenMP exactly as common/multi_tensor.hpp does, is walked
// in tiles of kTile elements.  A tile's params, grads and state are loaded into per-thread float32 buffers
// (bfloat16/float16 widened, 8-bit blocks dequantised; float32 arrays and a float32 master copy are used in
// place), the rule runs over the tile with T = float, and the buffers are stored back: bfloat16 rounded to
// nearest even or stochastically, float16 to nearest even, 8-bit blocks re-quantised with their new absmax.
// With a master copy the rule updates the master and the rounded value is written to the param in the
// same pass.  The all-float32 case never comes here: it keeps the zero-copy driver.
#pragma once
#include <cstdint>
#include <vector>

#include "common/bfloat16.hpp"
#include "common/float16.hpp"
#include "common/multi_tensor.hpp"
#include "common/parallel.hpp"
#include "common/quantize.hpp"
#include "common/stochastic_rounding.hpp"
#include "common/tensor_sums.hpp"

namespace fastopt {

// How one array stores its elements.
enum class Storage : uint8_t { f32, bf16, f16, q8_signed, q8_unsigned };

struct MixedTensor {
  void* param;
  Storage param_type;  // f32, bf16 or f16
  float* master;       // float32 copy of a bf16/f16 param that the rule updates, or null
  const void* grad;    // null for rules that read no gradient
  Storage grad_type;   // f32, or the param's type
  void* state[kMaxStates];
  Storage state_type[kMaxStates];  // f32, bf16, q8_signed or q8_unsigned
  float* absmax[kMaxStates];       // q8 only: one per kQuantBlock elements
  int64_t n;
  int64_t id;  // the tensor's place in its optimizer: what stochastic rounding hashes
};

struct MixedTensors {
  std::vector<MixedTensor> tensors;
  size_t size() const { return tensors.size(); }  // read as a list of tensors (common/cautious.hpp)
  const MixedTensor& operator[](size_t t) const { return tensors[t]; }
  bool stochastic_rounding = false;  // for bfloat16 writes (params and state)
  uint64_t seed = 0;
  int64_t step = 0;
};

namespace mixed {

constexpr int64_t kTile = 256;  // elements: one quantisation block; its buffers (6 KiB) stay in L1 (measured:
                                // 2x faster than 1,024-element tiles for bfloat16 params and state)
static_assert(kChunk % kTile == 0 && kTile % kQuantBlock == 0, "tiles must hold whole quantisation blocks");

// Where the rule reads array `a` (element type `type`, offset `begin`, `len` elements): the array itself
// when it is float32, else `buffer` filled with its widened or dequantised values.
inline float* load(Storage type, void* a, const float* absmax, int64_t begin, int64_t len, float* buffer) {
  switch (type) {
    case Storage::f32: return static_cast<float*>(a) + begin;
    case Storage::bf16: bf16_to_float_n(static_cast<const uint16_t*>(a) + begin, buffer, len); return buffer;
    case Storage::f16: {
      const uint16_t* __restrict in = static_cast<const uint16_t*>(a) + begin;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) buffer[i] = f16_to_float(in[i]);
      return buffer;
    }
    case Storage::q8_signed:
    case Storage::q8_unsigned: {
      const DynamicMap& map = dynamic_map(type == Storage::q8_signed);
      for (int64_t b = 0; b < len; b += kQuantBlock)
        dequantize_block(map, static_cast<const uint8_t*>(a) + begin + b, absmax[(begin + b) / kQuantBlock],
                         buffer + b, len - b < kQuantBlock ? len - b : kQuantBlock);
      return buffer;
    }
  }
  return nullptr;
}

// Writes `values` (len floats) back to array `a` at `begin`; `key` seeds stochastic rounding (bf16 only).
inline void store(Storage type, void* a, float* absmax, int64_t begin, int64_t len, const float* values,
                  bool stochastic, uint32_t key) {
  switch (type) {
    case Storage::f32: {
      float* out = static_cast<float*>(a) + begin;
      if (out != values)
        for (int64_t i = 0; i < len; ++i) out[i] = values[i];
      return;
    }
    case Storage::bf16: {
      uint16_t* __restrict out = static_cast<uint16_t*>(a) + begin;
      if (!stochastic) return float_to_bf16_n(values, out, len);
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) out[i] = float_to_bf16_biased(values[i], rounding_bits(key, begin + i));
      return;
    }
    case Storage::f16: {
      uint16_t* __restrict out = static_cast<uint16_t*>(a) + begin;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) out[i] = float_to_f16(values[i]);
      return;
    }
    case Storage::q8_signed:
    case Storage::q8_unsigned: {
      const DynamicMap& map = dynamic_map(type == Storage::q8_signed);
      for (int64_t b = 0; b < len; b += kQuantBlock)
        quantize_block(map, values + b, static_cast<uint8_t*>(a) + begin + b, &absmax[(begin + b) / kQuantBlock],
                       len - b < kQuantBlock ? len - b : kQuantBlock);
      return;
    }
  }
}

}  // namespace mixed

// Calls visit(w, tensor, p, g, s, len) for every tile of every chunk w, the tile's params, grad and state
// loaded as float32 (see the top of the file); with `store`, writes each tile back after its visit.
// Chunks are shared out by one OpenMP loop as in common/multi_tensor.hpp; a chunk's tiles run in order on
// one thread.
template <class Visit>
void for_each_mixed_tile(const MixedTensors& list, bool store, const Visit& visit) {
  int64_t total = 0;
  std::vector<Chunk> work;
  for (int64_t t = 0; t < static_cast<int64_t>(list.tensors.size()); ++t) {
    const int64_t n = list.tensors[t].n;
    total += n;
    for (int64_t b = 0; b < n; b += kChunk) work.push_back({t, b, b + kChunk < n ? b + kChunk : n});
  }
  const int64_t count = static_cast<int64_t>(work.size());
  const int threads = threads_for(total, kSerialBelow);
  const GradTransform transform = current_grad_transform();  // read here: OpenMP's threads have their own
  const float scale = static_cast<float>(transform.scale), limit = static_cast<float>(transform.limit);
  dynamic_map(true), dynamic_map(false);  // built here, on first use: never inside the parallel region
  constexpr int64_t kBuffers = 2 + kMaxStates;  // param, grad, states
  // Allocated before the region: an allocation failure must not throw inside it.
  std::vector<float> buffers(static_cast<size_t>(threads) * kBuffers * mixed::kTile);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    float* const mine = buffers.data() + thread_index() * kBuffers * mixed::kTile;
    float* const p_buffer = mine;
    float* const g_buffer = mine + mixed::kTile;
#if FASTOPT_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t w = 0; w < count; ++w) {
      const MixedTensor& t = list.tensors[work[w].tensor];
      for (int64_t b = work[w].begin; b < work[w].end; b += mixed::kTile) {
        const int64_t len = work[w].end - b < mixed::kTile ? work[w].end - b : mixed::kTile;
        float* p = t.master ? t.master + b : mixed::load(t.param_type, t.param, nullptr, b, len, p_buffer);
        const float* g = nullptr;
        if (t.grad) {
          float* widened = mixed::load(t.grad_type, const_cast<void*>(t.grad), nullptr, b, len, g_buffer);
          if (!transform.identity()) {
            float* out = g_buffer;  // in place when widened is the buffer; never the caller's grad
#pragma omp simd
            for (int64_t i = 0; i < len; ++i) out[i] = clamp_nan_safe(widened[i] * scale, limit);
            widened = out;
          }
          g = widened;
        }
        static_assert(kMaxStates == 4, "list every state slot below");
        float* s_ptr[kMaxStates];
        for (int k = 0; k < kMaxStates; ++k)
          s_ptr[k] = t.state[k] ? mixed::load(t.state_type[k], t.state[k], t.absmax[k], b, len,
                                              mine + (2 + k) * mixed::kTile)
                                : nullptr;
        float* const s[kMaxStates] = {s_ptr[0], s_ptr[1], s_ptr[2], s_ptr[3]};
        visit(w, work[w].tensor, p, g, s, len);
        if (!store) continue;
        const bool sr = list.stochastic_rounding;
        auto key = [&](int stream) { return sr ? rounding_key(list.seed, list.step, t.id, stream, b) : 0u; };
        if (t.param_type != Storage::f32) mixed::store(t.param_type, t.param, nullptr, b, len, p, sr, key(0));
        for (int k = 0; k < kMaxStates; ++k)
          if (t.state[k] && t.state_type[k] != Storage::f32)
            mixed::store(t.state_type[k], t.state[k], t.absmax[k], b, len, s[k], sr, key(1 + k));
      }
    }
  }
}

// Runs rule(p, g, s, i) with T = float over every element of every tensor (its for_tensor(t) copy where it
// has one, as common/multi_tensor.hpp does).  Chosen by overload resolution when an optimizer's step is
// instantiated with MixedTensors.
template <class Rule>
void for_each_element(const MixedTensors& list, const Rule& rule) {
  for_each_mixed_tile(list, true, [&](int64_t, int64_t tensor, float* __restrict p, const float* __restrict g,
                                      float* const* s, int64_t len) {
    auto run = [&](const auto rule_copy) {  // a local copy: its scalars stay in registers through the loop
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) rule_copy(p, g, s, i);
    };
    if constexpr (HasForTensor<Rule>::value) run(rule.for_tensor(tensor));
    else run(rule);
  });
}

// The K sums of rule.reduce over every element, per tensor, as common/tensor_sums.hpp computes them for
// float32/float64 lists (per-chunk partial sums added in chunk order: the same for any thread count).  Nothing
// is written back: only rules whose reduce reads (the cautious count) run through here.
template <int K, class Rule>
std::vector<Sums<K>> tensor_sums(const MixedTensors& list, const Rule& rule) {
  std::vector<int64_t> owner;  // each chunk's tensor, in the order for_each_mixed_tile numbers them
  for (int64_t t = 0; t < static_cast<int64_t>(list.tensors.size()); ++t)
    for (int64_t b = 0; b < list.tensors[t].n; b += kChunk) owner.push_back(t);
  std::vector<Sums<K>> partial(owner.size(), Sums<K>{});
  for_each_mixed_tile(list, false, [&](int64_t w, int64_t, float* __restrict p, const float* __restrict g,
                                       float* const* s, int64_t len) {
    double acc[K] = {};
#pragma omp simd reduction(+ : acc[:K])
    for (int64_t i = 0; i < len; ++i) rule.reduce(p, g, s, i, acc);
    for (int k = 0; k < K; ++k) partial[w][k] += acc[k];
  });
  std::vector<Sums<K>> out(list.tensors.size(), Sums<K>{});
  for (size_t w = 0; w < owner.size(); ++w)
    for (int k = 0; k < K; ++k) out[owner[w]][k] += partial[w][k];
  return out;
}

}  // namespace fastopt
