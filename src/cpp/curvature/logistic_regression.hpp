// Multinomial logistic regression (softmax regression) as an Objective: the full-batch problem the
// second-order methods are compared on (MNIST: d = 784 features, K = 10 classes, 7,850 parameters).
//
// Data X (N, d), labels y_i in [0, K).  Parameters theta = [W (K x d, row-major), b (K,)]:
//   z_i = W x_i + b                                        logits (K,)
//   f   = (1/N) sum_i [lse(z_i) - z_i[y_i]] + (l2/2) |W|^2  (the bias is not penalised)
//   P   = softmax rows of Z;  Y the one-hot labels
//   grad_W = (1/N) (P - Y)^T X + l2 W,   grad_b = (1/N) sum_i (p_i - y_i)
// The Hessian-vector product is the R-operator (the derivative of the gradient along v = [V, c]):
//   u_i = V x_i + c,   r_i = (diag(p_i) - p_i p_i^T) u_i = p_i * (u_i - p_i.u_i)
//   (H v)_W = (1/N) R^T X + l2 V,   (H v)_b = (1/N) sum_i r_i
// exact, never a finite difference.
//
// Precision: the parameters and all arithmetic are float64.  X is stored as given, float32 or
// float64.  Each thread takes blocks of kBlockRows rows; a float32 block is widened into a
// cache-resident float64 buffer, then both GEMMs of the block run on it (logits Xb A^T, then the
// parameter side dZb^T Xb), so an evaluation streams X from memory once, in half the bytes of a
// float64 copy, and computes exactly what float64 X would (widening float32 is exact).
//
// Threading: one OpenMP region per call over row blocks, OpenBLAS single-threaded inside it (the
// module sets it once, nn/blas.hpp); each thread sums its blocks' gradient into its own buffer and
// the buffers (and per-thread losses) are added in thread order after the region, so a result is
// the same from call to call at a given thread count.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/parallel.hpp"
#include "curvature/objective.hpp"
#include "nn/blas.hpp"
#include "nn/softmax_xent.hpp"

namespace fastopt::curvature {

class LogisticRegression final : public Objective {
 public:
  // Rows per block: a float64 block of 784 features is 400 KB, inside a core's 1 MB L2 beside W.
  static constexpr int64_t kBlockRows = 64;

  // x: N * d entries, row-major, in float32 (x32) or float64 (x64): give exactly one, the other
  // empty.  labels: N entries in [0, classes).  Throws std::invalid_argument for sizes, labels or
  // l2 that do not fit (the binding checks them first with the argument's name).
  LogisticRegression(std::vector<float> x32, std::vector<double> x64, std::vector<int64_t> labels, int64_t features,
                     int64_t classes, double l2)
      : Objective(classes * (features + 1)), x32_(std::move(x32)), x64_(std::move(x64)), labels_(std::move(labels)),
        samples_(static_cast<int64_t>(labels_.size())), features_(features), classes_(classes), l2_(l2) {
    const size_t stored = x32_.empty() ? x64_.size() : x32_.size();
    if (!x32_.empty() && !x64_.empty()) throw std::invalid_argument("X: give float32 or float64 data, not both");
    if (features < 1 || classes < 2 || samples_ < 1 || stored != static_cast<size_t>(samples_ * features))
      throw std::invalid_argument("X, y: need N >= 1 rows of d >= 1 features and K >= 2 classes");
    for (const int64_t label : labels_)
      if (label < 0 || label >= classes) throw std::invalid_argument("y: labels must lie in [0, classes)");
    if (!(l2 >= 0 && std::isfinite(l2))) throw std::invalid_argument("l2: must be finite and >= 0");
  }

  bool has_hessp() const override { return true; }
  int64_t samples() const { return samples_; }
  int64_t features() const { return features_; }
  int64_t classes() const { return classes_; }
  double l2() const { return l2_; }
  bool stores_float32() const { return !x32_.empty(); }
  // Wall seconds spent inside value/gradient and Hessian-vector evaluations so far: what a method's
  // run time is split against (the rest is the method's own work).
  double seconds = 0;

 protected:
  double evaluate(const double* theta, double* g) override {
    Timer timer(seconds);
    const int64_t k = classes_;
    const double loss_sum = pass(theta, nullptr, g, [&](int64_t row, const double* z, double* dz, double*) {
      double lse;
      const double loss = nn::softmax_xent_forward_row(z, labels_[row], k, 0.0, &lse);
      if (dz) nn::softmax_xent_backward_row(dz, z, lse, labels_[row], k, 0.0, 1.0);  // p - onehot(y)
      return loss;
    });
    double penalty = 0;
    const int64_t nw = k * features_;
    for (int64_t i = 0; i < nw; ++i) penalty += theta[i] * theta[i];
    if (g)
      for (int64_t i = 0; i < nw; ++i) g[i] += l2_ * theta[i];
    return loss_sum / static_cast<double>(samples_) + 0.5 * l2_ * penalty;
  }

  void fill_hessp(const double* theta, const double* v, double* out) override {
    Timer timer(seconds);
    const int64_t k = classes_;
    pass(theta, v, out, [k](int64_t, const double* zu, double* r, double* probabilities) {
      // zu: the row's logits z (K) then u = V x + c (K); r = p * (u - p.u).
      nn::softmax_row(probabilities, zu, k);
      double pu = 0;
      for (int64_t j = 0; j < k; ++j) pu += probabilities[j] * zu[k + j];
      for (int64_t j = 0; j < k; ++j) r[j] = probabilities[j] * (zu[k + j] - pu);
      return 0.0;
    });
    const int64_t nw = k * features_;
    for (int64_t i = 0; i < nw; ++i) out[i] += l2_ * v[i];
  }

 private:
  struct Timer {
    explicit Timer(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
    ~Timer() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    double& total_;
    std::chrono::steady_clock::time_point start_;
  };

  // Rows [r0, r0 + rows) of X as float64: a view of float64 data, or the float32 rows widened into buf.
  const double* rows_as_double(int64_t r0, int64_t rows, double* buf) const {
    if (x32_.empty()) return x64_.data() + r0 * features_;
    const float* from = x32_.data() + r0 * features_;
    const int64_t count = rows * features_;
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) buf[i] = static_cast<double>(from[i]);
    return buf;
  }

  // The one pass over the data that value, gradient and Hessian-vector product share.
  //   A = [W; V] ((K or 2K) x d), offsets [b; c]; per block Zb = Xb A^T + offsets.
  //   row_op(i, Zb row, dz row or null, work (K)) -> the row's loss; it writes dz (K), the row's
  //   weight on the parameter side, when dz is not null, and may use work as scratch.
  //   out (when not null) = (1/N) [dZ^T X, sum_i dz_i]  (the caller adds the l2 term).
  // Returns the summed loss.  No exception can leave the parallel region: everything that can throw
  // (allocation) happens before it.
  template <class RowOp>
  double pass(const double* theta, const double* v, double* out, const RowOp& row_op) {
    std::lock_guard<std::mutex> lock(busy_);
    const int64_t k = classes_, d = features_, n = samples_;
    const int64_t m = v ? 2 * k : k;  // columns of Zb
    const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
    const int64_t threads = std::min<int64_t>(threads_for(n * d, kSerialBelowElements), blocks);
    const int64_t width = k * (d + 1);  // one gradient buffer: [dZ^T X (K x d), sum dz (K)]
    // A and its offsets side by side: a (m x d), offsets (m,).
    a_.resize(static_cast<size_t>(m * d));
    offsets_.resize(static_cast<size_t>(m));
    std::copy(theta, theta + k * d, a_.data());
    std::copy(theta + k * d, theta + width, offsets_.data());
    if (v) {
      std::copy(v, v + k * d, a_.data() + k * d);
      std::copy(v + k * d, v + width, offsets_.data() + k);
    }
    const int64_t per_thread = kBlockRows * (stores_float32() ? d : 0) + kBlockRows * (m + k) + k;
    scratch_.resize(static_cast<size_t>(threads * per_thread));
    sums_.assign(out ? static_cast<size_t>(threads * width) : 0, 0.0);
    losses_.assign(static_cast<size_t>(threads), 0.0);
    const double* a = a_.data();
    const double* offsets = offsets_.data();
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(static_cast<int>(threads)) if (threads > 1)
#endif
    {
      const int64_t tid = thread_index();
      double* xbuf = scratch_.data() + tid * per_thread;
      double* zb = xbuf + kBlockRows * (stores_float32() ? d : 0);
      double* dzb = zb + kBlockRows * m;
      double* work = dzb + kBlockRows * k;
      double* sum = out ? sums_.data() + tid * width : nullptr;
      double loss = 0;
#if FASTOPT_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
      for (int64_t block = 0; block < blocks; ++block) {
        const int64_t r0 = block * kBlockRows, rows = std::min(kBlockRows, n - r0);
        const double* xb = rows_as_double(r0, rows, xbuf);
        // (rows, d) x (m, d)^T -> (rows, m)
        nn::gemm(false, true, rows, m, d, 1.0, xb, d, a, d, 0.0, zb, m);
        for (int64_t r = 0; r < rows; ++r) {
          double* z = zb + r * m;
          for (int64_t j = 0; j < m; ++j) z[j] += offsets[j];
          loss += row_op(r0 + r, z, sum ? dzb + r * k : nullptr, work);
        }
        if (sum) {
          // (rows, K)^T x (rows, d) -> (K, d), accumulated; the bias part sums dz's rows.
          nn::gemm(true, false, k, d, rows, 1.0, dzb, k, xb, d, 1.0, sum, d);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < k; ++j) sum[k * d + j] += dzb[r * k + j];
        }
      }
      losses_[tid] = loss;
    }
    double total = 0;
    for (const double l : losses_) total += l;
    if (out) {
      const double inv_n = 1.0 / static_cast<double>(n);
      for (int64_t i = 0; i < width; ++i) {
        double s = 0;
        for (int64_t t = 0; t < threads; ++t) s += sums_[t * width + i];
        out[i] = s * inv_n;
      }
    }
    return total;
  }

  std::vector<float> x32_;
  std::vector<double> x64_;
  std::vector<int64_t> labels_;
  int64_t samples_, features_, classes_;
  double l2_;
  // Scratch reused between calls (one call at a time: busy_).
  std::mutex busy_;
  std::vector<double> a_, offsets_, scratch_, sums_, losses_;
};

}  // namespace fastopt::curvature
