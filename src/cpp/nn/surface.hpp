// The network's mean loss and accuracy at many parameter vectors on the same data, in one call:
// the loss-surface views of Li et al. (2018) (1-D slices, 2-D grids, linear interpolation, the
// plane of a training path) all evaluate
//
//   theta_p = base + sum_k c_{p,k} d_k      (P parameters, m <= 2 directions d_k, point p's coords c_p)
//
// with the MLP's inference forward (no dropout) over all B samples, then
//   loss_p = (1 / B) sum_i xent(z_i(theta_p), y_i),   correct_p = #{i : argmax z_i(theta_p) = y_i}.
//
// Two ways to share the work, chosen by the caller (bench/bench_surface.py measures both):
//   over points: each thread builds whole points in its own parameter buffer and runs all rows;
//                no barrier, the weights stay in the thread's cache for a whole point.
//   over rows:   the points run one after another, each thread on its block of rows (as MLP::infer);
//                needed when there are fewer points than threads.
// BLAS stays single-threaded inside the region (use_single_threaded_blas), as for the MLP.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/parallel.hpp"
#include "nn/activation.hpp"
#include "nn/bias_activation.hpp"
#include "nn/dense.hpp"
#include "nn/layout.hpp"
#include "nn/softmax_xent.hpp"

namespace fastopt::nn {

template <class T>
struct SurfaceProblem {
  const std::vector<Layer>* layers;
  size_t activation;  // index of Activations
  ActivationParams activation_params;
  double smoothing;           // label smoothing of the loss
  const T* base;              // (P,)
  const T* directions;        // (m, P), row k = d_k
  int64_t num_directions;     // m
  const double* coords;       // (N, m)
  int64_t num_points;         // N
  const T* x;                 // (B, in)
  const int64_t* labels;      // (B,)
  int64_t batch;              // B
  int64_t chunk;              // rows per forward (bounds the workspace)
};

// One thread's buffers: per layer the pre-activations z (chunk, out) and hidden outputs a.
template <class T>
struct ForwardBuffers {
  std::vector<std::vector<T>> z, a;
  ForwardBuffers(const std::vector<Layer>& layers, int64_t chunk) : z(layers.size()), a(layers.size()) {
    for (size_t l = 0; l < layers.size(); ++l) {
      z[l].resize(chunk * layers[l].out);
      if (l + 1 < layers.size()) a[l].resize(chunk * layers[l].out);
    }
  }
};

// Parameter entries [j0, j1) of point p: theta = base + c_0 d_0 + c_1 d_1 (left to right, as NumPy's
// base + a * d1 + b * d2 rounds in T).
template <class T>
void point_params(T* theta, const SurfaceProblem<T>& s, int64_t p, int64_t j0, int64_t j1) {
  const int64_t n = s.layers->back().bias + s.layers->back().out;
  std::copy(s.base + j0, s.base + j1, theta + j0);
  for (int64_t k = 0; k < s.num_directions; ++k) {
    const T c = static_cast<T>(s.coords[p * s.num_directions + k]);
    const T* __restrict d = s.directions + k * n;
    T* __restrict t = theta;
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) t[j] += c * d[j];
  }
}

// Rows [r0, r1) through the network with parameters theta, `s.chunk` rows at a time; adds their
// summed loss and correct count.
template <class T>
void rows_loss(const SurfaceProblem<T>& s, const T* theta, ForwardBuffers<T>& buf, int64_t r0, int64_t r1,
               double* loss_sum, int64_t* correct) {
  const std::vector<Layer>& layers = *s.layers;
  const int64_t last = static_cast<int64_t>(layers.size()) - 1, k = layers.back().out, in = layers.front().in;
  for (int64_t c0 = r0; c0 < r1; c0 += s.chunk) {
    const int64_t rows = std::min(s.chunk, r1 - c0);
    for (int64_t l = 0; l <= last; ++l) {
      const Layer& L = layers[l];
      const T* input = l == 0 ? s.x + c0 * in : buf.a[l - 1].data();
      dense_forward_rows(buf.z[l].data(), input, theta + L.weight, L.in, L.out, 0, rows);
      if (l == last) {
        bias_forward_rows(buf.z[l].data(), theta + L.bias, L.out, 0, rows);
      } else {
        with_activation<T>(s.activation, s.activation_params, [&](const auto& act) {
          bias_activation_forward_rows(buf.a[l].data(), buf.z[l].data(), theta + L.bias, act, nullptr, T(1), L.out,
                                       0, rows);
        });
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const T* logits = &buf.z[last][r * k];
      const int64_t y = s.labels[c0 + r];
      *loss_sum += softmax_xent_forward_row(logits, y, k, s.smoothing);
      *correct += argmax_row(logits, k) == y;
    }
  }
}

// loss (N,) and correct (N,) of every point.  Inputs checked by the caller (sizes, labels in range).
template <class T>
void evaluate_points(const SurfaceProblem<T>& s, bool over_points, double* loss, int64_t* correct) {
  const std::vector<Layer>& layers = *s.layers;
  const int64_t n = layers.back().bias + layers.back().out;
  const double inv_batch = 1.0 / static_cast<double>(s.batch);
  if (over_points) {
    const int64_t threads = std::min<int64_t>(num_threads(), s.num_points);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
      std::vector<T> theta(n);
      ForwardBuffers<T> buf(layers, std::min(s.chunk, s.batch));
#if FASTOPT_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (int64_t p = 0; p < s.num_points; ++p) {
        point_params(theta.data(), s, p, 0, n);
        double sum = 0.0;
        int64_t right = 0;
        rows_loss(s, theta.data(), buf, 0, s.batch, &sum, &right);
        loss[p] = sum * inv_batch;
        correct[p] = right;
      }
    }
    return;
  }
  const int64_t threads = num_threads();
  std::vector<T> theta(n);
  std::vector<double> sums(threads);
  std::vector<int64_t> rights(threads);
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const int64_t tid = thread_index(), nth = team_size();
    const Range rows = share(s.batch, nth, tid), entries = share(n, nth, tid);
    ForwardBuffers<T> buf(layers, std::max<int64_t>(1, std::min(s.chunk, rows.end - rows.begin)));
    for (int64_t p = 0; p < s.num_points; ++p) {
      point_params(theta.data(), s, p, entries.begin, entries.end);
      sums[tid] = 0.0;
      rights[tid] = 0;
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier
#endif
      rows_loss(s, theta.data(), buf, rows.begin, rows.end, &sums[tid], &rights[tid]);
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier
#endif
      if (tid == 0) {
        double sum = 0.0;
        int64_t right = 0;
        for (int64_t t = 0; t < nth; ++t) sum += sums[t], right += rights[t];
        loss[p] = sum * inv_batch;
        correct[p] = right;
      }
#if FASTOPT_HAVE_OPENMP
#pragma omp barrier  // theta and the sums are rewritten for the next point
#endif
    }
  }
}

}  // namespace fastopt::nn
