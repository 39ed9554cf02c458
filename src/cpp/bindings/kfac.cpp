// Python bindings of the K-FAC family's native work (fastopt._core.kfac): the layer capture the
// MLP's forward_backward fills, the Kronecker factor updates, their eigen-decompositions and damped
// inverses, the preconditioning of the layer gradients and EKFAC's rescaled diagonal.  The state
// arrays are NumPy arrays owned by the Python optimizer (fastopt.curvature.kfac); every argument is
// checked (dtype, shape, contiguity, writeability) before anything is written, then the GIL is released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/array_lists.hpp"
#include "bindings/convert.hpp"
#include "curvature/adahessian.hpp"
#include "curvature/ekfac_scale.hpp"
#include "curvature/kfac_decompose.hpp"
#include "curvature/kfac_factors.hpp"
#include "curvature/kfac_precondition.hpp"
#include "nn/layer_capture.hpp"
#include "nn/mlp.hpp"

namespace py = pybind11;
using fastopt::bindings::as_const;
using fastopt::bindings::checked;
using fastopt::bindings::checked_list;
using fastopt::bindings::dtype_name;
using fastopt::bindings::shape_str;
using fastopt::nn::Layer;
using fastopt::nn::LayerCapture;
using fastopt::nn::MLP;

namespace {

// Shapes per layer: A (in + 1)^2, G out^2, vectors of their sizes, a layer matrix out x (in + 1).
enum class Piece { a_matrix, g_matrix, a_vector, g_vector, layer_matrix };

std::vector<std::vector<int64_t>> shapes_of(const std::vector<Layer>& layers, Piece piece) {
  std::vector<std::vector<int64_t>> out;
  for (const Layer& L : layers) {
    switch (piece) {
      case Piece::a_matrix: out.push_back({L.in + 1, L.in + 1}); break;
      case Piece::g_matrix: out.push_back({L.out, L.out}); break;
      case Piece::a_vector: out.push_back({L.in + 1}); break;
      case Piece::g_vector: out.push_back({L.out}); break;
      case Piece::layer_matrix: out.push_back({L.out, L.in + 1}); break;
    }
  }
  return out;
}

template <class T>
LayerCapture<T>& checked_capture(const MLP<T>& net, const py::handle& capture) {
  if (!py::isinstance<LayerCapture<T>>(capture))
    throw py::type_error("capture: expected a LayerCapture of the model's dtype (" + dtype_name<T>() + "), got " +
                         fastopt::bindings::type_name(capture));
  auto& c = capture.cast<LayerCapture<T>&>();
  if (!c.fits(net.layers())) throw py::value_error("capture: made for a network of other layer sizes");
  if (c.batch == 0) throw py::value_error("capture: empty (no forward_backward has filled it yet)");
  return c;
}

void check_decay(double decay) {
  if (!(decay >= 0.0 && decay < 1.0)) throw py::value_error("decay: must be in [0, 1), got " + std::to_string(decay));
}

template <class T>
void def_capture(py::module_& m, const char* name) {
  py::class_<LayerCapture<T>>(m, name, "Per-layer inputs and per-example output gradients of one forward_backward.")
      .def(py::init([](const MLP<T>& net, bool sampled, uint64_t seed) {
             return new LayerCapture<T>(net.layers(), sampled, seed);
           }),
           py::arg("net"), py::arg("sampled"), py::arg("seed"))
      .def_readonly("sampled", &LayerCapture<T>::sampled)
      .def_readonly("seed", &LayerCapture<T>::seed)
      .def_readonly("batch", &LayerCapture<T>::batch)
      .def_readwrite("calls", &LayerCapture<T>::calls, "Captures so far: the sampled labels' counter.")
      .def("a", [](const LayerCapture<T>& c, int64_t l) {
             if (l < 0 || l >= static_cast<int64_t>(c.layers.size())) throw py::index_error("layer out of range");
             const int64_t cols = c.layers[l].in + 1;
             py::array_t<T> out({c.batch, cols});
             std::copy(c.a[l].begin(), c.a[l].begin() + c.batch * cols, out.mutable_data());
             return out;
           }, py::arg("layer"), "A copy of layer's inputs with the homogeneous 1, (batch, in + 1).")
      .def("g", [](const LayerCapture<T>& c, int64_t l) {
             if (l < 0 || l >= static_cast<int64_t>(c.layers.size())) throw py::index_error("layer out of range");
             const int64_t cols = c.layers[l].out;
             py::array_t<T> out({c.batch, cols});
             std::copy(c.g[l].begin(), c.g[l].begin() + c.batch * cols, out.mutable_data());
             return out;
           }, py::arg("layer"), "A copy of layer's per-example output gradients, (batch, out).")
      .def("first_non_finite_layer", [](const LayerCapture<T>& c) -> int64_t {
             for (size_t l = 0; l < c.layers.size(); ++l) {
               const int64_t na = c.batch * (c.layers[l].in + 1), ng = c.batch * c.layers[l].out;
               for (int64_t i = 0; i < na; ++i) if (!std::isfinite(c.a[l][i])) return static_cast<int64_t>(l);
               for (int64_t i = 0; i < ng; ++i) if (!std::isfinite(c.g[l][i])) return static_cast<int64_t>(l);
             }
             return -1;
           }, "The first layer whose captured a or g holds a NaN or an infinity, or -1.");
}

// fn(net) with the MLP of net's dtype.
template <class Fn>
auto with_net(const py::handle& net, const Fn& fn) {
  if (py::isinstance<MLP<float>>(net)) return fn(net.cast<MLP<float>&>());
  if (py::isinstance<MLP<double>>(net)) return fn(net.cast<MLP<double>&>());
  throw py::type_error("net: expected a native MLP (fastopt.nn.MLP's _net), got " + fastopt::bindings::type_name(net));
}

template <class T>
void eigen_of(const py::sequence& factors, const py::sequence& vectors, const py::sequence& values) {
  std::vector<std::vector<int64_t>> squares, lines;
  for (const auto& f : factors) {
    const int64_t n = py::isinstance<py::array>(f) ? py::reinterpret_borrow<py::array>(f).shape(0) : 0;
    squares.push_back({n, n});
    lines.push_back({n});
  }
  const auto f = checked_list<T>(factors, "factors", squares, false);
  const auto q = checked_list<T>(vectors, "eigenvectors", squares, true);
  const auto d = checked_list<T>(values, "eigenvalues", lines, true);
  std::vector<int64_t> sizes;
  for (const auto& s : lines) sizes.push_back(s[0]);
  int64_t failed;
  {
    py::gil_scoped_release release;
    failed = fastopt::curvature::eigen_decompose(as_const(f), q, d, sizes);
  }
  if (failed >= 0)
    throw std::runtime_error("eigen: the eigen-decomposition of factor " + std::to_string(failed) +
                             " did not converge (syevd)");
}

template <class T>
void inverse_of(const py::sequence& factors, const std::vector<double>& shifts, const py::sequence& outs) {
  std::vector<std::vector<int64_t>> squares;
  for (const auto& f : factors) {
    const int64_t n = py::isinstance<py::array>(f) ? py::reinterpret_borrow<py::array>(f).shape(0) : 0;
    squares.push_back({n, n});
  }
  const auto f = checked_list<T>(factors, "factors", squares, false);
  const auto o = checked_list<T>(outs, "out", squares, true);
  if (shifts.size() != squares.size()) throw py::value_error("shifts: expected one per factor");
  for (double s : shifts)
    if (!(s >= 0.0 && std::isfinite(s))) throw py::value_error("shifts: must be finite and >= 0");
  std::vector<int64_t> sizes;
  for (const auto& s : squares) sizes.push_back(s[0]);
  int64_t failed;
  {
    py::gil_scoped_release release;
    failed = fastopt::curvature::damped_inverse(as_const(f), shifts, o, sizes);
  }
  if (failed >= 0)
    throw py::value_error("damped_inverse: factor " + std::to_string(failed) +
                          " plus its damping is not positive definite (raise the damping)");
}

// AdaHessian's fused moment update over the flat buffers (all of params' dtype and size; see adahessian.hpp).
template <class T>
void adahessian_of(const py::array& params, const py::array& grads, const py::array& exp_avg,
                   const py::array& exp_sq, const py::array& diag, const fastopt::curvature::AdaHessianHyper& h,
                   int64_t step) {
  const int64_t n = params.ndim() == 1 ? params.shape(0) : -1;
  if (n < 0) throw py::value_error("params: expected a 1-d array, got shape " + shape_str(params));
  T* p = checked<T>(params, "params", {n}, true);
  const T* g = checked<T>(grads, "grads", {n}, false);
  T* m = checked<T>(exp_avg, "exp_avg", {n}, true);
  T* v = checked<T>(exp_sq, "exp_hessian_diag_sq", {n}, true);
  T* d = checked<T>(diag, "hessian_diag", {n}, false);
  const std::vector<std::pair<const T*, const char*>> buffers{
      {p, "params"}, {g, "grads"}, {m, "exp_avg"}, {v, "exp_hessian_diag_sq"}, {d, "hessian_diag"}};
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j)
      if (buffers[i].first < buffers[j].first + n && buffers[j].first < buffers[i].first + n)
        throw py::value_error(std::string(buffers[j].second) + ": must not share memory with " + buffers[i].second);
  if (step < 1) throw py::value_error("step: must be >= 1, got " + std::to_string(step));
  py::gil_scoped_release release;
  fastopt::curvature::adahessian_step(p, g, m, v, d, n, h, step);
}

const char* kFirstFactor = "factors: expected a non-empty list of float32 or float64 arrays";

py::dtype first_dtype(const py::sequence& arrays) {
  if (py::len(arrays) == 0 || !py::isinstance<py::array>(arrays[0])) throw py::type_error(kFirstFactor);
  return py::reinterpret_borrow<py::array>(arrays[0]).dtype();
}

}  // namespace

void register_kfac(py::module_& root) {
  py::module_ m = root.def_submodule("kfac", "The K-FAC family's native work: capture, factors, decompositions, "
                                             "preconditioning");
  def_capture<float>(m, "LayerCaptureFloat32");
  def_capture<double>(m, "LayerCaptureFloat64");
  m.def(
      "update_factors",
      [](const py::object& net, const py::object& capture, const py::sequence& factors_a,
         const py::sequence& factors_g, double decay) {
        with_net(net, [&](auto& mlp) {
          using T = std::remove_reference_t<decltype(*mlp.params())>;
          const auto& layers = mlp.layers();
          auto& c = checked_capture<T>(mlp, capture);
          const auto a = checked_list<T>(factors_a, "factors_a", shapes_of(layers, Piece::a_matrix), true);
          const auto g = checked_list<T>(factors_g, "factors_g", shapes_of(layers, Piece::g_matrix), true);
          check_decay(decay);
          py::gil_scoped_release release;
          fastopt::curvature::update_kronecker_factors(layers, c, a, g, decay);
        });
      },
      py::arg("net"), py::arg("capture"), py::arg("factors_a"), py::arg("factors_g"), py::arg("decay"),
      "A <- decay A + (1 - decay) E[a a^T], G <- decay G + (1 - decay) E[g g^T] per layer (SYRK).");
  m.def(
      "eigen",
      [](const py::sequence& factors, const py::sequence& vectors, const py::sequence& values) {
        if (first_dtype(factors).is(py::dtype::of<float>())) return eigen_of<float>(factors, vectors, values);
        eigen_of<double>(factors, vectors, values);
      },
      py::arg("factors"), py::arg("eigenvectors"), py::arg("eigenvalues"),
      "F = Q diag(d) Q^T for each symmetric F (syevd): Q's columns the eigenvectors, d ascending, clamped at 0.");
  m.def(
      "damped_inverse",
      [](const py::sequence& factors, const std::vector<double>& shifts, const py::sequence& out) {
        if (first_dtype(factors).is(py::dtype::of<float>())) return inverse_of<float>(factors, shifts, out);
        inverse_of<double>(factors, shifts, out);
      },
      py::arg("factors"), py::arg("shifts"), py::arg("out"), "out_i = (F_i + shift_i I)^-1 by Cholesky.");
  m.def(
      "precondition",
      [](const py::object& net, const py::array& grads, const py::array& out, bool eigen, const py::sequence& qa,
         const py::sequence& qg, const py::object& da, const py::object& dg, const py::object& scale, double damping,
         const std::vector<double>& shift_a, const std::vector<double>& shift_g) {
        with_net(net, [&](auto& mlp) {
          using T = std::remove_reference_t<decltype(*mlp.params())>;
          const auto& layers = mlp.layers();
          const int64_t count = static_cast<int64_t>(layers.size()), n = mlp.num_params();
          const T* g = checked<T>(grads, "grads", {n}, false);
          T* o = checked<T>(out, "out", {n}, true);
          if (o < g + n && g < o + n) throw py::value_error("out: must not share memory with grads");
          const auto a_mats = checked_list<T>(qa, "qa", shapes_of(layers, Piece::a_matrix), false);
          const auto g_mats = checked_list<T>(qg, "qg", shapes_of(layers, Piece::g_matrix), false);
          std::vector<T*> da_v(count, nullptr), dg_v(count, nullptr), s_v(count, nullptr);
          if (eigen && scale.is_none()) {
            da_v = checked_list<T>(da, "da", shapes_of(layers, Piece::a_vector), false);
            dg_v = checked_list<T>(dg, "dg", shapes_of(layers, Piece::g_vector), false);
          } else if (eigen) {
            s_v = checked_list<T>(scale, "scale", shapes_of(layers, Piece::layer_matrix), false);
          }
          if (static_cast<int64_t>(shift_a.size()) != count || static_cast<int64_t>(shift_g.size()) != count)
            throw py::value_error("shift_a, shift_g: expected one per layer");
          if (!(damping >= 0.0 && std::isfinite(damping)))
            throw py::value_error("damping: must be finite and >= 0, got " + std::to_string(damping));
          std::vector<fastopt::curvature::LayerPreconditioner<T>> pre(count);
          for (int64_t l = 0; l < count; ++l) pre[l] = {a_mats[l], g_mats[l], da_v[l], dg_v[l], s_v[l], shift_a[l],
                                                        shift_g[l]};
          py::gil_scoped_release release;
          fastopt::curvature::precondition_layers(layers, pre, eigen, damping, g, o);
        });
      },
      py::arg("net"), py::arg("grads"), py::arg("out"), py::arg("eigen"), py::arg("qa"), py::arg("qg"), py::arg("da"),
      py::arg("dg"), py::arg("scale"), py::arg("damping"), py::arg("shift_a"), py::arg("shift_g"),
      "out = the per-layer preconditioned gradient (eigen: Q_G [(Q_G^T M Q_A) / (S + damping)] Q_A^T; "
      "else G_inv M A_inv with qa, qg the damped inverses).");
  m.def(
      "update_eigen_scale",
      [](const py::object& net, const py::object& capture, const py::sequence& qa, const py::sequence& qg,
         const py::sequence& scale, double decay) {
        with_net(net, [&](auto& mlp) {
          using T = std::remove_reference_t<decltype(*mlp.params())>;
          const auto& layers = mlp.layers();
          auto& c = checked_capture<T>(mlp, capture);
          const auto a = checked_list<T>(qa, "qa", shapes_of(layers, Piece::a_matrix), false);
          const auto g = checked_list<T>(qg, "qg", shapes_of(layers, Piece::g_matrix), false);
          const auto s = checked_list<T>(scale, "scale", shapes_of(layers, Piece::layer_matrix), true);
          check_decay(decay);
          py::gil_scoped_release release;
          fastopt::curvature::update_eigen_scale(layers, c, as_const(a), as_const(g), s, decay);
        });
      },
      py::arg("net"), py::arg("capture"), py::arg("qa"), py::arg("qg"), py::arg("scale"), py::arg("decay"),
      "EKFAC: S <- decay S + (1 - decay) (1/B) ((g Q_G)^2)^T ((a Q_A)^2) per layer.");
  m.def(
      "adahessian_step",
      [](const py::array& params, const py::array& grads, const py::array& exp_avg, const py::array& exp_sq,
         const py::array& diag, double lr, double beta1, double beta2, double eps, double weight_decay,
         double hessian_power, int64_t step) {
        const fastopt::curvature::AdaHessianHyper h{lr, beta1, beta2, eps, weight_decay, hessian_power};
        if (params.dtype().is(py::dtype::of<float>()))
          return adahessian_of<float>(params, grads, exp_avg, exp_sq, diag, h, step);
        adahessian_of<double>(params, grads, exp_avg, exp_sq, diag, h, step);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avg"), py::arg("exp_hessian_diag_sq"),
      py::arg("hessian_diag"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("hessian_power"), py::arg("step"),
      "AdaHessian in place: p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) D^2; "
      "p -= lr/bc1 m / ((v/bc2)^(k/2) + eps) (hyperparameters validated by the caller).");
}
