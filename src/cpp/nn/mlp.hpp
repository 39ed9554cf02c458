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
#include "nn/bias_activation.hpp"
#include "nn/dense.hpp"
#include "nn/dropout.hpp"
#include "nn/layer_capture.hpp"
#include "nn/layout.hpp"
#include "nn/sampling.hpp"
#include "nn/softmax_xent.hpp"

namespace fastopt::nn {

template <class T>
class MLP {
 public:
  // activation: an index of Activations (activation_index); std::invalid_argument (ValueError)
  // for sizes that cannot be built or allocated, or a dropout outside [0, 1).
  MLP(const std::vector<int64_t>& sizes, size_t activation, const ActivationParams& activation_params, double dropout,
      uint64_t seed)
      : layers_(plan_layers(sizes, sizeof(T))), activation_(activation), activation_params_(activation_params),
        dropout_(dropout), seed_(seed) {
    if (activation >= Activations::size) throw std::invalid_argument("activation: index out of range");
    if (!(dropout >= 0.0 && dropout < 1.0)) throw std::invalid_argument("dropout: must be in [0, 1)");
    const int64_t count = layers_.back().bias + layers_.back().out;
    try {
      params_.assign(count, T(0));
      grads_.assign(count, T(0));
    } catch (const std::bad_alloc&) {
      throw sizes_error(sizes, sizeof(T), "the allocation failed");
    } catch (const std::length_error&) {
      throw sizes_error(sizes, sizeof(T), "more than a std::vector can hold");
    }
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
  size_t activation() const { return activation_; }  // index of Activations
  const ActivationParams& activation_params() const { return activation_params_; }
  uint64_t dropout_calls = 0;  // training forwards so far: the dropout masks' counter (saved with the model)

  // Threads for `rows` samples: serial below kSerialBelowMlpFlops of rows x parameters (about a
  // forward's multiply-adds), computed so that it cannot overflow.
  int64_t threads_for_rows(int64_t rows) const {
    const bool large = rows > kSerialBelowMlpFlops / num_params() || rows * num_params() >= kSerialBelowMlpFlops;
    return large ? num_threads() : 1;
  }

  // x (B, in), labels (B,) -> mean loss; overwrites the gradient buffer.  train: apply dropout.
  // capture not null: also record each layer's inputs and per-example output gradients into it.
  double forward_backward(const T* x, const int64_t* labels, int64_t batch, bool train, double smoothing,
                          LayerCapture<T>* capture = nullptr) {
    std::lock_guard<std::mutex> lock(busy_);
    reserve(batch);
    if (capture) capture->reserve(batch);
    const std::vector<std::optional<DropoutMask>> masks = dropout_masks(train);
    const int64_t threads = threads_for_rows(batch);
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
      for (int64_t r = r0; r < r1; ++r) {
        const T* logits = &z_[last][r * k];
        double lse;
        loss[tid] += softmax_xent_forward_row(logits, labels[r], k, smoothing, &lse);
        softmax_xent_backward_row(&dz_[last][r * k], logits, lse, labels[r], k, smoothing, inv_batch);
      }
      for (int64_t l = last; l > 0; --l) {
        const Layer& L = layers_[l];
        dense_backward_input_rows(dz_[l - 1].data(), dz_[l].data(), &params_[L.weight], L.in, L.out, r0, r1);
        const DropoutMask* mask = masks[l - 1] ? &*masks[l - 1] : nullptr;
        with_activation<T>(activation_, activation_params_, [&](const auto& act) {
          bias_activation_backward_rows(dz_[l - 1].data(), z_[l - 1].data(), act, mask, keep_scale(), L.in, r0, r1);
        });
      }
      if (capture) capture_rows(*capture, x, masks, batch, r0, r1);
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier
#endif
      for (int64_t l = 0; l <= last; ++l) {
        const Layer& L = layers_[l];
        const Range units = share(L.out, nth, tid);
        dense_backward_weight_units(&grads_[L.weight], dz_[l].data(), input(x, l), batch, L.in, L.out, units.begin,
                                    units.end);
        bias_backward_units(&grads_[L.bias], dz_[l].data(), batch, L.out, units.begin, units.end);
      }
    }
    if (capture) ++capture->calls;
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
      const int64_t threads = threads_for_rows(m);
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
            loss[tid] += softmax_xent_forward_row(logits, y, k, smoothing);
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
  size_t activation_;  // index of Activations
  ActivationParams activation_params_;
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

  // Rows [r0, r1) of a capture (nn/layer_capture.hpp), after their backward pass: each layer's input
  // with its 1, and g = B dz (the data's labels) or the backward pass of p - onehot(y~), y~ ~ softmax.
  void capture_rows(LayerCapture<T>& c, const T* x, const std::vector<std::optional<DropoutMask>>& masks,
                    int64_t batch, int64_t r0, int64_t r1) {
    const int64_t last = static_cast<int64_t>(layers_.size()) - 1;
    for (int64_t l = 0; l <= last; ++l) {
      const int64_t in = layers_[l].in;
      const T* src = input(x, l);
      T* dst = c.a[l].data();
      for (int64_t r = r0; r < r1; ++r) {
        std::copy(src + r * in, src + (r + 1) * in, dst + r * (in + 1));
        dst[r * (in + 1) + in] = T(1);
      }
    }
    if (!c.sampled) {
      const T scale = static_cast<T>(batch);
      for (int64_t l = 0; l <= last; ++l) {
        const int64_t out = layers_[l].out;
        const T* dz = dz_[l].data();
        T* g = c.g[l].data();
        for (int64_t i = r0 * out; i < r1 * out; ++i) g[i] = dz[i] * scale;
      }
      return;
    }
    const int64_t k = num_classes();
    const uint64_t key = c.key();
    for (int64_t r = r0; r < r1; ++r) {
      const T* logits = &z_[last][r * k];
      double lse;
      softmax_xent_forward_row(logits, 0, k, 0.0, &lse);
      const int64_t drawn = sample_class(logits, lse, k, uniform_draw(key, r, 0));
      softmax_xent_backward_row(&c.g[last][r * k], logits, lse, drawn, k, 0.0, 1.0);
    }
    for (int64_t l = last; l > 0; --l) {
      const Layer& L = layers_[l];
      dense_backward_input_rows(c.g[l - 1].data(), c.g[l].data(), &params_[L.weight], L.in, L.out, r0, r1);
      const DropoutMask* mask = masks[l - 1] ? &*masks[l - 1] : nullptr;
      with_activation<T>(activation_, activation_params_, [&](const auto& act) {
        bias_activation_backward_rows(c.g[l - 1].data(), z_[l - 1].data(), act, mask, keep_scale(), L.in, r0, r1);
      });
    }
  }

  // Rows [r0, r1) through every layer: GEMM on the block, then bias + activation + dropout in one pass.
  void forward_rows(const T* x, const std::vector<std::optional<DropoutMask>>& masks, int64_t r0, int64_t r1) {
    const int64_t last = static_cast<int64_t>(layers_.size()) - 1;
    for (int64_t l = 0; l <= last; ++l) {
      const Layer& L = layers_[l];
      dense_forward_rows(z_[l].data(), input(x, l), &params_[L.weight], L.in, L.out, r0, r1);
      if (l == last) {
        bias_forward_rows(z_[l].data(), &params_[L.bias], L.out, r0, r1);
        continue;
      }
      const DropoutMask* mask = masks[l] ? &*masks[l] : nullptr;
      with_activation<T>(activation_, activation_params_, [&](const auto& act) {
        bias_activation_forward_rows(a_[l].data(), z_[l].data(), &params_[L.bias], act, mask, keep_scale(), L.out, r0,
                                     r1);
      });
    }
  }
};

}  // namespace fastopt::nn
