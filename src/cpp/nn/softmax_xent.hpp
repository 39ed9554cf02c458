// Fused softmax cross-entropy with label smoothing, one pass per row: stable log-sum-exp, the
// loss, and the gradient of the batch-mean loss with respect to the logits.
//
// Target q = (1 - eps) onehot(y) + eps / K;  loss = lse(z) - sum_k q_k z_k;  dz = (p - q) / B.
#pragma once
#include <cmath>
#include <cstdint>

namespace fastopt::nn {

// logits (K,), label y -> returns the row's loss; writes dlogits (K,) when it is not null.
template <class T>
double softmax_xent_row(const T* logits, int64_t k, int64_t y, double smoothing, double inv_batch, T* dlogits) {
  T mx = logits[0];
  for (int64_t j = 1; j < k; ++j) mx = logits[j] > mx ? logits[j] : mx;
  double sum_exp = 0.0, sum_z = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    sum_exp += std::exp(static_cast<double>(logits[j] - mx));
    sum_z += static_cast<double>(logits[j]);
  }
  const double lse = static_cast<double>(mx) + std::log(sum_exp);
  const double off = smoothing / static_cast<double>(k);
  const double loss = lse - (1.0 - smoothing) * static_cast<double>(logits[y]) - off * sum_z;
  if (dlogits) {
    for (int64_t j = 0; j < k; ++j) {
      const double p = std::exp(static_cast<double>(logits[j]) - lse);
      const double q = (j == y ? 1.0 - smoothing : 0.0) + off;
      dlogits[j] = static_cast<T>((p - q) * inv_batch);
    }
  }
  return loss;
}

// probabilities (K,) = softmax(logits (K,)), stable.
template <class T>
void softmax_row(T* probabilities, const T* logits, int64_t k) {
  T mx = logits[0];
  for (int64_t j = 1; j < k; ++j) mx = logits[j] > mx ? logits[j] : mx;
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
