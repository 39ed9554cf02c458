// Hidden-layer activations: value f(z) and slope f'(z), both from the pre-activation z (the
// stored post-dropout output cannot give f'(z) for tanh, sigmoid or gelu).  One small struct per
// activation, dispatched once per loop by with_activation, so every elementwise loop is a
// branch-free body the compiler vectorises.
#pragma once
#include <cmath>
#include <stdexcept>
#include <string>

namespace fastopt::nn {

enum class Activation { relu, leaky_relu, tanh, sigmoid, gelu };

inline Activation activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "leaky_relu") return Activation::leaky_relu;
  if (name == "tanh") return Activation::tanh;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "gelu") return Activation::gelu;
  throw std::invalid_argument("activation: unknown '" + name + "' (relu, leaky_relu, tanh, sigmoid, gelu)");
}

template <class T>
struct Relu {
  T value(T z) const { return z > T(0) ? z : T(0); }
  T slope(T z) const { return z > T(0) ? T(1) : T(0); }
};

template <class T>
struct LeakyRelu {
  T negative_slope;
  T value(T z) const { return z > T(0) ? z : negative_slope * z; }
  T slope(T z) const { return z > T(0) ? T(1) : negative_slope; }
};

template <class T>
struct Tanh {
  T value(T z) const { return std::tanh(z); }
  T slope(T z) const { const T t = std::tanh(z); return T(1) - t * t; }
};

template <class T>
struct Sigmoid {
  // exp of -|z| only, so neither tail overflows.
  T value(T z) const {
    const T e = std::exp(-std::fabs(z));
    return z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
  }
  T slope(T z) const { const T s = value(z); return s * (T(1) - s); }
};

template <class T>
struct Gelu {  // exact (erf) GELU, as torch.nn.GELU() by default
  static T cdf(T z) { return T(0.5) * (T(1) + std::erf(z * T(0.70710678118654752440))); }
  T value(T z) const { return z * cdf(z); }
  T slope(T z) const { return cdf(z) + z * T(0.39894228040143267794) * std::exp(T(-0.5) * z * z); }
};

// Calls f(activation_struct) with the struct for kind.
template <class T, class F>
void with_activation(Activation kind, T negative_slope, F&& f) {
  switch (kind) {
    case Activation::relu: f(Relu<T>{}); return;
    case Activation::leaky_relu: f(LeakyRelu<T>{negative_slope}); return;
    case Activation::tanh: f(Tanh<T>{}); return;
    case Activation::sigmoid: f(Sigmoid<T>{}); return;
    case Activation::gelu: f(Gelu<T>{}); return;
  }
}

}  // namespace fastopt::nn
