// Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"),
// torch.optim.Adafactor's variant, for a whole param group in one call.  At step t, with g the gradient
// (negated under maximize):
//   beta2_hat = 1 - t^beta2_decay;  rho = min(lr, 1/sqrt(t));  alpha = max(eps2, RMS(p)) rho
//   p <- p (1 - lr wd)
//   matrices (..., R, C), per leading index:  r <- lerp(r, mean_c g^2, 1 - beta2_hat);
//       c <- lerp(c, mean_r g^2, 1 - beta2_hat);  V = r c^T / max(mean(r), eps1)
//   vectors:  v <- lerp(v, g^2, 1 - beta2_hat);  V = v
//   U = g / sqrt(max(V, eps1^2));  p <- p - alpha U / max(1, RMS(U) / d)
// The reductions (RMS(p), the row and column means, RMS(U)) are native: a tensor below kSerialBelow
// elements is one thread's job, a larger one shares its rows among the threads.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "common/multi_tensor.hpp"
#include "common/parallel.hpp"
#include "optim/muon.hpp"  // torch_lerp, transformed_grad

namespace fastopt {

template <class T>
struct AdafactorTensor {
  T* param;
  const T* grad;
  T* row;  // (batch, rows) of a matrix; the variance (n) of a vector
  T* col;  // (batch, cols) of a matrix; null for a vector
  int64_t batch, rows, cols;  // a vector: batch = 1, rows = 1, cols = n
};

struct AdafactorHyper {
  double lr, beta2_decay, eps1, eps2, d, weight_decay;  // eps1 < 0: the machine epsilon of the param's type
  bool maximize;
  double grad_scale = 1.0, grad_limit = INFINITY;
};

template <class T>
class AdafactorUpdate {
 public:
  // row_mean (t.batch) and col_sums (t.cols) are scratch space, allocated by the caller outside parallel regions.
  AdafactorUpdate(const AdafactorTensor<T>& t, const AdafactorHyper& h, int64_t step, int threads, T* row_mean,
                  double* col_sums)
      : t_(t), h_(h), threads_(threads), row_mean_(row_mean), col_sums_(col_sums),
        sign_(h.maximize ? T(-1) : T(1)), scale_(static_cast<T>(h.grad_scale)), limit_(static_cast<T>(h.grad_limit)),
        eps1_(h.eps1 < 0 ? std::numeric_limits<T>::epsilon() : static_cast<T>(h.eps1)), eps1_sq_(eps1_ * eps1_),
        weight_(static_cast<T>(std::pow(static_cast<double>(step), h.beta2_decay))),
        rho_(std::min(h.lr, 1.0 / std::sqrt(static_cast<double>(step)))) {}

  void run() {
    const int64_t n = t_.batch * t_.rows * t_.cols;
    if (n == 0) return;
    const T* p = t_.param;
    const int64_t segments = t_.col ? t_.batch * t_.rows : (n + kSegment - 1) / kSegment;
    double sum_p, sum_u;
    if (t_.col) {
      sum_p = sums_over(n, [&](int64_t i, double& a, double&) { a += square(p[i]); }).first;
      update_factors();
      sum_u = sums_over(segments, [&](int64_t s, double& a, double&) {
        each_update(s, [&](int64_t, T u) { a += square(u); });
      }).first;
    } else {  // one pass: the param's RMS, the second moment and the update's RMS
      T* v = t_.row;
      std::tie(sum_p, sum_u) = sums_over(n, [&](int64_t i, double& a, double& b) {
        a += square(p[i]);
        const T g = grad(i), vi = torch_lerp(v[i], g * g, weight_);
        v[i] = vi;
        b += square(scaled(g, vi));
      });
    }
    const double alpha = std::max(h_.eps2, std::sqrt(sum_p / n)) * rho_;
    const T step = static_cast<T>(alpha / std::max(1.0, std::sqrt(sum_u / n) / h_.d));
    const T decay = static_cast<T>(1 - h_.lr * h_.weight_decay);
    parallel_for(segments, [&](int64_t s) {
      each_update(s, [&](int64_t i, T u) { t_.param[i] = t_.param[i] * decay - step * u; });
    });
  }

 private:
  static constexpr int64_t kSegment = 4096;  // elements of a vector per work item
  static double square(T x) { return static_cast<double>(x) * static_cast<double>(x); }
  T grad(int64_t i) const { return sign_ * transformed_grad(t_.grad[i], scale_, limit_); }
  T scaled(T g, T v) const { return T(1) / std::sqrt(std::max(v, eps1_sq_)) * g; }  // torch's rsqrt(clamp(v)) * g

  // f(i, U_i) over segment s: row s of the (batch * rows) rows of a matrix, or kSegment elements of a vector.
  template <class F>
  void each_update(int64_t s, const F& f) const {
    if (t_.col) {
      const int64_t cols = t_.cols, b = s / t_.rows;
      const T row = t_.row[s], mean = row_mean_[b];
      const T* col = t_.col + b * cols;
      const int64_t base = s * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) f(base + c, scaled(grad(base + c), row * col[c] / mean));
    } else {
      const int64_t end = std::min(t_.cols, (s + 1) * kSegment);
#pragma omp simd
      for (int64_t i = s * kSegment; i < end; ++i) f(i, scaled(grad(i), t_.row[i]));
    }
  }

  template <class F>
  void parallel_for(int64_t n, const F& f) const {
    if (threads_ <= 1) {  // inside the loop over small tensors: no nested OpenMP region
      for (int64_t i = 0; i < n; ++i) f(i);
      return;
    }
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads_) if (threads_ > 1)
#endif
    for (int64_t i = 0; i < n; ++i) f(i);
  }

  // The two sums f(i, a, b) adds to over [0, n), in blocks of kBlock whose partial sums are added in order, so
  // that they do not depend on the number of threads.  A tensor run inside the parallel loop over small tensors
  // has at most kStackBlocks blocks: no allocation there.
  template <class F>
  std::pair<double, double> sums_over(int64_t n, const F& f) const {
    constexpr int64_t kBlock = 4096, kStackBlocks = kSerialBelow / kBlock + 1;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    double stack[2 * kStackBlocks];
    std::vector<double> heap(blocks > kStackBlocks ? static_cast<size_t>(2 * blocks) : 0);
    double* partial = blocks > kStackBlocks ? heap.data() : stack;
    parallel_for(blocks, [&](int64_t k) {
      // kLanes accumulators, element i always in lane i % kLanes: a fixed order the compiler may vectorise
      constexpr int64_t kLanes = 8;
      double a[kLanes] = {}, b[kLanes] = {};
      const int64_t begin = k * kBlock, end = std::min(n, begin + kBlock);
      int64_t i = begin;
      for (; i + kLanes <= end; i += kLanes) {
#pragma omp simd
        for (int64_t j = 0; j < kLanes; ++j) f(i + j, a[j], b[j]);
      }
      for (; i < end; ++i) f(i, a[(i - begin) % kLanes], b[(i - begin) % kLanes]);
      double sa = 0, sb = 0;
      for (int64_t j = 0; j < kLanes; ++j) sa += a[j], sb += b[j];
      partial[2 * k] = sa;
      partial[2 * k + 1] = sb;
    });
    double a = 0, b = 0;
    for (int64_t k = 0; k < blocks; ++k) a += partial[2 * k], b += partial[2 * k + 1];
    return {a, b};
  }

  // Row means (each row by one thread), column means (each thread a block of columns, reading rows in
  // order), then the mean of the new row factor, per leading index.
  void update_factors() {
    const int64_t rows = t_.rows, cols = t_.cols;
    for (int64_t b = 0; b < t_.batch; ++b) {
      const int64_t base = b * rows * cols;
      T* row = t_.row + b * rows;
      T* col = t_.col + b * cols;
      parallel_for(rows, [&](int64_t r) {
        double s = 0;
        for (int64_t c = 0; c < cols; ++c) s += square(grad(base + r * cols + c));
        row[r] = torch_lerp(row[r], static_cast<T>(s / cols), weight_);
      });
      const int64_t blocks = std::min<int64_t>(threads_, (cols + 63) / 64);
      double* sums = col_sums_;
      std::fill(sums, sums + cols, 0.0);
      parallel_for(blocks, [&](int64_t k) {
        const int64_t c0 = cols * k / blocks, c1 = cols * (k + 1) / blocks;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = c0; c < c1; ++c) sums[c] += square(grad(base + r * cols + c));
      });
      for (int64_t c = 0; c < cols; ++c) col[c] = torch_lerp(col[c], static_cast<T>(sums[c] / rows), weight_);
      double mean = 0;
      for (int64_t r = 0; r < rows; ++r) mean += row[r];
      row_mean_[b] = std::max(static_cast<T>(mean / rows), eps1_);
    }
  }

  const AdafactorTensor<T>& t_;
  const AdafactorHyper& h_;
  const int threads_;
  T* const row_mean_;
  double* const col_sums_;
  const T sign_, scale_, limit_, eps1_, eps1_sq_, weight_;
  const double rho_;
};

// One step over a group: tensors below kSerialBelow elements one per thread, larger ones with every thread.
template <class T>
void adafactor_step(const std::vector<AdafactorTensor<T>>& tensors, const AdafactorHyper& h, int64_t step) {
  const int threads = num_threads();
  const int64_t n = static_cast<int64_t>(tensors.size());
  std::vector<int64_t> means_at(n + 1, 0), sums_at(n + 1, 0);  // each factored tensor's scratch space
  for (int64_t i = 0; i < n; ++i) {
    means_at[i + 1] = means_at[i] + (tensors[i].col ? tensors[i].batch : 0);
    sums_at[i + 1] = sums_at[i] + (tensors[i].col ? tensors[i].cols : 0);
  }
  std::vector<T> means(static_cast<size_t>(means_at[n]));
  std::vector<double> sums(static_cast<size_t>(sums_at[n]));
  auto update = [&](int64_t i, int team) {
    AdafactorUpdate<T>(tensors[i], h, step, team, means.data() + means_at[i], sums.data() + sums_at[i]).run();
  };
  std::vector<int64_t> small;
  for (int64_t i = 0; i < n; ++i) {
    const AdafactorTensor<T>& t = tensors[i];
    if (t.batch * t.rows * t.cols >= kSerialBelow) update(i, threads);
    else small.push_back(i);
  }
  const int64_t count = static_cast<int64_t>(small.size());
  const int team = threads_for(count * 1024, kSerialBelow);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(team) if (team > 1)
#endif
  for (int64_t j = 0; j < count; ++j) update(small[j], 1);
}

}  // namespace fastopt
