// Hidden-layer activations: value f(z), slope f'(z) and curvature f''(z) (for the R-operator of
// the backward pass), all from the pre-activation z (the stored post-dropout output cannot give
// f'(z) for tanh, sigmoid or gelu).  One small struct per
// activation, dispatched once per loop by with_activation, so every elementwise loop is a
// branch-free body the compiler vectorises.
//
// A new activation is one struct here, added to Activations: the name lookup, the dispatch and
// the Python list (fastopt.nn.ACTIVATIONS, the CLI's choices) all derive from that list.
#pragma once
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fastopt::nn {

// What an activation may read besides z; every activation is built from it.
struct ActivationParams {
  double negative_slope = 0.01;  // leaky_relu's slope below 0
};

template <class T>
struct Relu {
  static constexpr const char* name = "relu";
  explicit Relu(const ActivationParams&) {}
  // Compared as z < 0 and z <= 0 so that NaN passes through as in torch (relu(NaN) = NaN, and its
  // backward lets the gradient through): every comparison with NaN is false.
  T value(T z) const { return z < T(0) ? T(0) : z; }
  T slope(T z) const { return z <= T(0) ? T(0) : T(1); }
  T curvature(T) const { return T(0); }  // piecewise linear: 0 off the kink (a NaN z reaches R{z} anyway)
};

template <class T>
struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  T negative_slope;
  explicit LeakyRelu(const ActivationParams& p) : negative_slope(static_cast<T>(p.negative_slope)) {}
  T value(T z) const { return z > T(0) ? z : negative_slope * z; }  // NaN: negative_slope * NaN = NaN
  T slope(T z) const { return z > T(0) ? T(1) : negative_slope; }
  T curvature(T) const { return T(0); }
};

template <class T>
struct Tanh {
  static constexpr const char* name = "tanh";
  explicit Tanh(const ActivationParams&) {}
  T value(T z) const { return std::tanh(z); }
  T slope(T z) const { const T t = std::tanh(z); return T(1) - t * t; }
  T curvature(T z) const { const T t = std::tanh(z); return T(-2) * t * (T(1) - t * t); }
};

template <class T>
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  explicit Sigmoid(const ActivationParams&) {}
  // exp of -|z| only, so neither tail overflows.
  T value(T z) const {
    const T e = std::exp(-std::fabs(z));
    return z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
  }
  T slope(T z) const { const T s = value(z); return s * (T(1) - s); }
  T curvature(T z) const { const T s = value(z); return s * (T(1) - s) * (T(1) - T(2) * s); }
};

template <class T>
struct Gelu {  // exact (erf) GELU, as torch.nn.GELU() by default
  static constexpr const char* name = "gelu";
  explicit Gelu(const ActivationParams&) {}
  static T cdf(T z) { return T(0.5) * (T(1) + std::erf(z * T(0.70710678118654752440))); }
  T value(T z) const { return z * cdf(z); }
  static T pdf(T z) { return T(0.39894228040143267794) * std::exp(T(-0.5) * z * z); }
  T slope(T z) const { return cdf(z) + z * pdf(z); }
  T curvature(T z) const { return pdf(z) * (T(2) - z * z); }  // d/dz (Phi + z phi) = 2 phi + z phi', phi' = -z phi
};

template <template <class> class... Acts>
struct ActivationList {
  static constexpr std::size_t size = sizeof...(Acts);
};

// The activations, in the order fastopt.nn.ACTIVATIONS lists them.
using Activations = ActivationList<Relu, LeakyRelu, Tanh, Sigmoid, Gelu>;

template <template <class> class... Acts>
std::vector<std::string> activation_names(ActivationList<Acts...>) {
  return {Acts<float>::name...};
}

inline std::vector<std::string> activation_names() { return activation_names(Activations{}); }

// Position of `name` in Activations; std::invalid_argument listing the choices if unknown.
inline std::size_t activation_index(const std::string& name) {
  const std::vector<std::string> names = activation_names();
  std::string choices;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
    choices += (i ? ", " : "") + names[i];
  }
  throw std::invalid_argument("activation: unknown '" + name + "' (" + choices + ")");
}

template <class T, template <class> class... Acts, class F>
void with_activation(ActivationList<Acts...>, std::size_t index, const ActivationParams& params, F&& f) {
  std::size_t i = 0;
  // Exactly one struct matches an index from activation_index; the fold stops there.
  (void)((index == i++ ? (f(Acts<T>(params)), true) : false) || ...);
}

// Calls f(activation struct) for the activation at `index` of Activations.
template <class T, class F>
void with_activation(std::size_t index, const ActivationParams& params, F&& f) {
  with_activation<T>(Activations{}, index, params, std::forward<F>(f));
}

}  // namespace fastopt::nn
