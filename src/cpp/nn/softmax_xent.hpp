// The loss stage: softmax cross-entropy with label smoothing, per row, with a stable log-sum-exp.
// Signature order: outputs, inputs, sizes.  Shapes: logits, dlogits (K,) for one row.
//
// Target q = (1 - eps) onehot(y) + eps / K;  loss = lse(z) - sum_k q_k z_k;  dz = (p - q) * scale
// (scale = 1 / B for the gradient of the batch mean).  Its R-operator: R{dz} = scale H R{z} with
// H = diag(p) - p p^T, the Hessian of the loss in the logits (q is constant: smoothing drops out).
#pragma once
#include <cmath>
#include <cstdint>

namespace fastopt::nn {

template <class T>
T max_row(const T* logits, int64_t k) {
  T mx = logits[0];
  for (int64_t j = 1; j < k; ++j) mx = logits[j] > mx ? logits[j] : mx;
  return mx;
}

// (K,) -> the row's loss.
template <class T>
double softmax_xent_forward_row(const T* logits, int64_t y, int64_t k, double smoothing, double* lse_out = nullptr) {
  const T mx = max_row(logits, k);
  double sum_exp = 0.0, sum_z = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    sum_exp += std::exp(static_cast<double>(logits[j] - mx));
    sum_z += static_cast<double>(logits[j]);
  }
  const double lse = static_cast<double>(mx) + std::log(sum_exp);
  if (lse_out) *lse_out = lse;
  const double off = smoothing / static_cast<double>(k);
  return lse - (1.0 - smoothing) * static_cast<double>(logits[y]) - off * sum_z;
}

// (K,) -> dlogits (K,), given the row's log-sum-exp from the forward.
template <class T>
void softmax_xent_backward_row(T* dlogits, const T* logits, double lse, int64_t y, int64_t k, double smoothing,
                               double scale) {
  const double off = smoothing / static_cast<double>(k);
  for (int64_t j = 0; j < k; ++j) {
    const double p = std::exp(static_cast<double>(logits[j]) - lse);
    const double q = (j == y ? 1.0 - smoothing : 0.0) + off;
    dlogits[j] = static_cast<T>((p - q) * scale);
  }
}

// (K,) -> R{dlogits} (K,) = scale (p * R{z} - p (p . R{z})), given the row's log-sum-exp.
template <class T>
void softmax_xent_rbackward_row(T* rdlogits, const T* logits, const T* rlogits, double lse, int64_t k, double scale) {
  double p_dot_r = 0.0;
  for (int64_t j = 0; j < k; ++j) p_dot_r += std::exp(static_cast<double>(logits[j]) - lse) * rlogits[j];
  for (int64_t j = 0; j < k; ++j) {
    const double p = std::exp(static_cast<double>(logits[j]) - lse);
    rdlogits[j] = static_cast<T>(scale * p * (static_cast<double>(rlogits[j]) - p_dot_r));
  }
}

// probabilities (K,) = softmax(logits (K,)), stable.
template <class T>
void softmax_row(T* probabilities, const T* logits, int64_t k) {
  const T mx = max_row(logits, k);
  double sum_exp = 0.0;
  for (int64_t j = 0; j < k; ++j) sum_exp += std::exp(static_cast<double>(logits[j] - mx));
  for (int64_t j = 0; j < k; ++j) probabilities[j] = static_cast<T>(std::exp(static_cast<double>(logits[j] - mx)) / sum_exp);
}

// Index of the largest logit (the first one on ties, like numpy.argmax).
template <class T>
int64_t argmax_row(const T* logits, int64_t k) {
  int64_t best = 0;
  for (int64_t j = 1; j < k; ++j) best = logits[j] > logits[best] ? j : best;
  return best;
}

}  // namespace fastopt::nn
