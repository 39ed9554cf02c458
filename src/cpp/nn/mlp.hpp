// The multilayer perceptron: dense layers over ONE flat parameter buffer and ONE flat gradient
// buffer (layer l: weight (out, in) then bias (out,)), hidden activations, optional inverted
// dropout, fused softmax cross-entropy.
//
// Threading: one OpenMP region per call, BLAS single-threaded inside it.  Every sample's
// forward, loss and input-side backward (dz of each layer) depends only on its own row, so each
// thread runs its block of rows through all layers and back with no barrier; one barrier, then
// the parameter gradients (which sum over all rows) are shared out by output units.
#pragma once
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "common/parallel.hpp"
#include "nn/activation.hpp"
#include "nn/dense.hpp"
#include "nn/dropout.hpp"
#include "nn/softmax_xent.hpp"

namespace fastopt::nn {

struct Range {
  int64_t begin, end;
};

// Part k of n items shared out between parts as evenly as possible.
inline Range share(int64_t n, int64_t parts, int64_t k) {
  const int64_t q = n / parts, r = n % parts;
  const int64_t begin = k * q + std::min(k, r);
  return {begin, begin + q + (k < r ? 1 : 0)};
}

template <class T>
class MLP {
 public:
  struct Layer {
    int64_t in, out, weight, bias;  // widths; offsets of W and b in the flat buffers
  };

  MLP(const std::vector<int64_t>& sizes, Activation activation, double negative_slope, double dropout, uint64_t seed)
      : activation_(activation), negative_slope_(static_cast<T>(negative_slope)), dropout_(dropout), seed_(seed) {
    if (sizes.size() < 2) throw std::invalid_argument("sizes: need at least an input and an output width");
    for (int64_t s : sizes)
      if (s < 1) throw std::invalid_argument("sizes: every width must be >= 1");
    if (!(dropout >= 0.0 && dropout < 1.0)) throw std::invalid_argument("dropout: must be in [0, 1)");
    int64_t offset = 0;
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      const int64_t in = sizes[l], out = sizes[l + 1];
      layers_.push_back({in, out, offset, offset + in * out});
      offset += in * out + out;
    }
    params_.assign(offset, T(0));
    grads_.assign(offset, T(0));
    z_.resize(layers_.size());
    a_.resize(layers_.size());
    dz_.resize(layers_.size());
  }

  const std::vector<Layer>& layers() const { return layers_; }
  int64_t num_params() const { return static_cast<int64_t>(params_.size()); }
  int64_t in_features() const { return layers_.front().in; }
  int64_t num_classes() const { return layers_.back().out; }
  T* params() { return params_.data(); }
  T* grads() { return grads_.data(); }
  uint64_t dropout_calls = 0;  // training forwards so far: the dropout masks' counter (saved with the model)

  // x (B, in), labels (B,) -> mean loss; overwrites the gradient buffer.  train: apply dropout.
  double forward_backward(const T* x, const int64_t* labels, int64_t batch, bool train, double smoothing) {
    std::lock_guard<std::mutex> lock(busy_);
    reserve(batch);
    const std::vector<std::optional<DropoutMask>> masks = dropout_masks(train);
    const int64_t threads = threads_for(batch);
    std::vector<double> loss(threads, 0.0);
    const double inv_batch = 1.0 / static_cast<double>(batch);
    const int64_t last = static_cast<int64_t>(layers_.size()) - 1;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
      const int64_t tid = thread_index(), nth = team_size();
      const Range rows = share(batch, nth, tid);
      const int64_t r0 = rows.begin, r1 = rows.end;
      forward_rows(x, masks, r0, r1);
      const int64_t k = num_classes();
      for (int64_t r = r0; r < r1; ++r)
        loss[tid] += softmax_xent_row(&z_[last][r * k], k, labels[r], smoothing, inv_batch, &dz_[last][r * k]);
      for (int64_t l = last; l > 0; --l) {
        const Layer& L = layers_[l];
        dense_input_grad_rows(dz_[l - 1].data(), dz_[l].data(), &params_[L.weight], L.in, L.out, r0, r1);
        const DropoutMask* mask = masks[l - 1] ? &*masks[l - 1] : nullptr;
        with_activation(activation_, negative_slope_, [&](const auto& act) {
          activation_grad_rows(dz_[l - 1].data(), z_[l - 1].data(), act, mask, keep_scale(), L.in, r0, r1);
        });
      }
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier
#endif
      for (int64_t l = 0; l <= last; ++l) {
        const Layer& L = layers_[l];
        const Range units = share(L.out, nth, tid);
        dense_param_grad_units(&grads_[L.weight], &grads_[L.bias], dz_[l].data(), input(x, l), batch, L.in, L.out,
                               units.begin, units.end);
      }
    }
    double total = 0.0;
    for (double v : loss) total += v;
    return total * inv_batch;
  }

  // Inference (no dropout) in chunks of `chunk` rows.  out (B, K) not null: logits, or
  // probabilities when proba.  labels not null: adds the summed loss and the correct count.
  void infer(const T* x, const int64_t* labels, int64_t batch, int64_t chunk, double smoothing, T* out, bool proba,
             double* loss_sum, int64_t* correct) {
    std::lock_guard<std::mutex> lock(busy_);
    const std::vector<std::optional<DropoutMask>> masks(layers_.size());
    const int64_t in = in_features(), k = num_classes(), last = static_cast<int64_t>(layers_.size()) - 1;
    reserve(std::min(batch, chunk));
    for (int64_t c0 = 0; c0 < batch; c0 += chunk) {
      const int64_t m = std::min(chunk, batch - c0);
      const int64_t threads = threads_for(m);
      std::vector<double> loss(threads, 0.0);
      std::vector<int64_t> right(threads, 0);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
      {
        const int64_t tid = thread_index();
        const Range rows = share(m, team_size(), tid);
        forward_rows(x + c0 * in, masks, rows.begin, rows.end);
        for (int64_t r = rows.begin; r < rows.end; ++r) {
          const T* logits = &z_[last][r * k];
          if (labels) {
            const int64_t y = labels[c0 + r];
            loss[tid] += softmax_xent_row<T>(logits, k, y, smoothing, 1.0, nullptr);
            right[tid] += argmax_row(logits, k) == y;
          }
          if (out && proba) softmax_row(out + (c0 + r) * k, logits, k);
          if (out && !proba) std::copy(logits, logits + k, out + (c0 + r) * k);
        }
      }
      for (int64_t t = 0; t < threads; ++t) {
        if (loss_sum) *loss_sum += loss[t];
        if (correct) *correct += right[t];
      }
    }
  }

 private:
  std::vector<Layer> layers_;
  Activation activation_;
  T negative_slope_;
  double dropout_;
  uint64_t seed_;
  std::vector<T> params_, grads_;
  std::vector<std::vector<T>> z_, a_, dz_;  // per layer, (capacity, out): pre-activation, output, dL/dz
  int64_t capacity_ = 0;
  std::mutex busy_;  // the workspace serves one call at a time

  void reserve(int64_t batch) {
    if (batch <= capacity_) return;
    for (size_t l = 0; l < layers_.size(); ++l) {
      z_[l].resize(batch * layers_[l].out);
      dz_[l].resize(batch * layers_[l].out);
      if (l + 1 < layers_.size()) a_[l].resize(batch * layers_[l].out);
    }
    capacity_ = batch;
  }

  const T* input(const T* x, int64_t l) const { return l == 0 ? x : a_[l - 1].data(); }
  T keep_scale() const { return static_cast<T>(1.0 / (1.0 - dropout_)); }

  // One mask per hidden layer when this call trains with dropout; advances the call counter.
  std::vector<std::optional<DropoutMask>> dropout_masks(bool train) {
    std::vector<std::optional<DropoutMask>> masks(layers_.size());
    if (!train || dropout_ == 0.0) return masks;
    for (size_t l = 0; l + 1 < layers_.size(); ++l) masks[l].emplace(seed_, dropout_calls, l, dropout_);
    ++dropout_calls;
    return masks;
  }

  // Small problems stay serial: a fork/join costs more than it saves.
  int64_t threads_for(int64_t batch) const {
    const int64_t flops = batch * num_params();
    return flops < (int64_t(1) << 17) ? 1 : std::max<int64_t>(1, num_threads());
  }

#if FASTOPT_HAVE_OPENMP
  static int64_t thread_index() { return omp_get_thread_num(); }
  static int64_t team_size() { return omp_get_num_threads(); }
#else
  static int64_t thread_index() { return 0; }
  static int64_t team_size() { return 1; }
#endif

  // Rows [r0, r1) through every layer: GEMM on the block, then bias + activation + dropout in one pass.
  void forward_rows(const T* x, const std::vector<std::optional<DropoutMask>>& masks, int64_t r0, int64_t r1) {
    const int64_t last = static_cast<int64_t>(layers_.size()) - 1;
    for (int64_t l = 0; l <= last; ++l) {
      const Layer& L = layers_[l];
      dense_matmul_rows(z_[l].data(), input(x, l), &params_[L.weight], L.in, L.out, r0, r1);
      if (l == last) {
        bias_rows(z_[l].data(), &params_[L.bias], L.out, r0, r1);
        continue;
      }
      const DropoutMask* mask = masks[l] ? &*masks[l] : nullptr;
      with_activation(activation_, negative_slope_, [&](const auto& act) {
        bias_activation_rows(a_[l].data(), z_[l].data(), &params_[L.bias], act, mask, keep_scale(), L.out, r0, r1);
      });
    }
  }
};

}  // namespace fastopt::nn
