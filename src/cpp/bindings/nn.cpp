// Python bindings of the network: validate inputs (GIL held, before anything is written), then
// release the GIL for the forward/backward.  Parameters and gradients are exposed as NumPy views
// of the network's own flat buffers, kept alive by the network object.  The curvature operators
// (curvature/mlp_curvature.hpp) share the network's input checks, so they are bound here too.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "curvature/mlp_curvature.hpp"
#include "nn/blas.hpp"
#include "nn/mlp.hpp"
#include "nn/surface.hpp"

namespace py = pybind11;
using namespace fastopt::nn;
using fastopt::bindings::shape_str;
using fastopt::curvature::CurvatureKind;
using fastopt::curvature::MLPCurvature;

namespace {

// Index of the first NaN or infinity in data[0, n), or -1.  x * 0 is 0 for finite x and NaN
// otherwise: one vectorised pass, the exact location searched only on error.
template <class T>
int64_t first_non_finite(const T* data, int64_t n) {
  T probe = T(0);
#pragma omp simd reduction(+ : probe)
  for (int64_t i = 0; i < n; ++i) probe += data[i] * T(0);
  if (probe == T(0)) return -1;
  int64_t i = 0;
  while (std::isfinite(data[i])) ++i;
  return i;
}

template <class T>
const T* checked_inputs(const MLP<T>& net, const py::array& x) {
  if (!py::isinstance<py::array_t<T>>(x) || !(x.flags() & py::array::c_style))
    throw py::type_error("x: expected a C-contiguous " + std::string(py::str(py::dtype::of<T>())) + " array");
  if (x.ndim() != 2 || x.shape(1) != net.in_features())
    throw py::value_error("x: expected shape (batch, " + std::to_string(net.in_features()) + "), got " + shape_str(x));
  if (x.shape(0) < 1) throw py::value_error("x: empty batch");
  int64_t widest = 1;  // BLAS takes 32-bit sizes: every (batch, width) matrix must fit
  for (const auto& L : net.layers()) widest = std::max({widest, L.in, L.out});
  if (x.shape(0) > std::numeric_limits<int32_t>::max() / widest)
    throw py::value_error("x: batch of " + std::to_string(x.shape(0)) + " rows is too large for one call");
  const T* data = static_cast<const T*>(x.data());
  if (const int64_t i = first_non_finite(data, x.size()); i >= 0) {
    throw py::value_error("x: contains a non-finite value (" + std::to_string(data[i]) + " at sample " +
                          std::to_string(i / net.in_features()) + ", feature " + std::to_string(i % net.in_features()) + ")");
  }
  return data;
}

template <class T>
const int64_t* checked_labels(const MLP<T>& net, const py::array& y, int64_t batch) {
  if (!py::isinstance<py::array_t<int64_t>>(y) || !(y.flags() & py::array::c_style))
    throw py::type_error("y: expected a C-contiguous int64 array of class labels");
  if (y.ndim() != 1 || y.shape(0) != batch)
    throw py::value_error("y: expected shape (" + std::to_string(batch) + ",) to match x's batch, got " + shape_str(y));
  const int64_t* labels = static_cast<const int64_t*>(y.data());
  for (int64_t i = 0; i < batch; ++i)
    if (labels[i] < 0 || labels[i] >= net.num_classes())
      throw py::value_error("y: label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                            " is out of range [0, " + std::to_string(net.num_classes()) + ")");
  return labels;
}

void check_smoothing(double smoothing) {
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    throw py::value_error("label_smoothing: must be in [0, 1], got " + std::to_string(smoothing));
}

template <class T>
void def_mlp(py::module_& m, const char* name) {
  py::class_<MLP<T>>(m, name, "Dense network over one flat parameter buffer (see fastopt.nn.MLP).")
      .def(py::init([](const std::vector<int64_t>& sizes, const std::string& activation, double negative_slope,
                       double dropout, uint64_t seed) {
             try {
               return new MLP<T>(sizes, activation_index(activation), ActivationParams{negative_slope}, dropout, seed);
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("sizes"), py::arg("activation"), py::arg("negative_slope"), py::arg("dropout"), py::arg("seed"))
      .def_property_readonly(
          "flat_params",
          [](py::object self) {
            auto& net = self.cast<MLP<T>&>();
            return py::array_t<T>({net.num_params()}, {sizeof(T)}, net.params(), self);
          })
      .def_property_readonly(
          "flat_grads",
          [](py::object self) {
            auto& net = self.cast<MLP<T>&>();
            return py::array_t<T>({net.num_params()}, {sizeof(T)}, net.grads(), self);
          })
      .def_property_readonly("layers",
                             [](const MLP<T>& net) {
                               py::list out;
                               for (const auto& L : net.layers()) out.append(py::make_tuple(L.in, L.out, L.weight, L.bias));
                               return out;
                             },
                             "(in, out, weight offset, bias offset) per layer.")
      .def_readwrite("dropout_calls", &MLP<T>::dropout_calls)
      .def(
          "forward_backward",
          [](MLP<T>& net, const py::array& x, const py::array& y, bool train, double smoothing,
             const py::object& capture) {
            const T* xs = checked_inputs(net, x);
            const int64_t batch = x.shape(0);
            const int64_t* labels = checked_labels(net, y, batch);
            check_smoothing(smoothing);
            LayerCapture<T>* layers = nullptr;  // what a K-FAC-family optimizer asks to record
            if (!capture.is_none()) {
              if (!py::isinstance<LayerCapture<T>>(capture))
                throw py::type_error("capture: expected a LayerCapture of the model's dtype, got " +
                                     fastopt::bindings::type_name(capture));
              layers = &capture.cast<LayerCapture<T>&>();
              if (!layers->fits(net.layers()))
                throw py::value_error("capture: made for a network of other layer sizes");
            }
            py::gil_scoped_release release;
            return net.forward_backward(xs, labels, batch, train, smoothing, layers);
          },
          py::arg("x"), py::arg("y"), py::arg("train"), py::arg("label_smoothing"), py::arg("capture") = py::none())
      .def(
          "infer",
          [](MLP<T>& net, const py::array& x, const py::object& y, int64_t batch_size, double smoothing,
             const std::string& output) {
            const T* xs = checked_inputs(net, x);
            const int64_t batch = x.shape(0);
            const int64_t* labels = y.is_none() ? nullptr : checked_labels(net, py::cast<py::array>(y), batch);
            check_smoothing(smoothing);
            if (batch_size < 1) throw py::value_error("batch_size: must be >= 1, got " + std::to_string(batch_size));
            if (output != "none" && output != "logits" && output != "proba")
              throw py::value_error("output: expected 'none', 'logits' or 'proba', got '" + output + "'");
            py::object out = py::none();
            T* out_ptr = nullptr;
            if (output != "none") {
              py::array_t<T> arr({batch, net.num_classes()});
              out_ptr = arr.mutable_data();
              out = arr;
            }
            double loss_sum = 0.0;
            int64_t correct = 0;
            {
              py::gil_scoped_release release;
              net.infer(xs, labels, batch, batch_size, smoothing, out_ptr, output == "proba", &loss_sum, &correct);
            }
            return py::make_tuple(out, loss_sum, correct);
          },
          py::arg("x"), py::arg("y"), py::arg("batch_size"), py::arg("label_smoothing"), py::arg("output"),
          "-> (logits/probabilities or None, summed loss, correct count); no dropout.");
}

// A read-only (v) or writable (out) flat vector of the network's dtype and parameter count.
template <class T>
void check_flat(const MLP<T>& net, const py::array& a, const char* name, bool writable) {
  const std::string dtype = py::str(py::dtype::of<T>());
  if (!py::isinstance<py::array_t<T>>(a))
    throw py::type_error(std::string(name) + ": expected a " + dtype + " array (the model's dtype), got " +
                         fastopt::bindings::dtype_str(a));
  if (a.ndim() != 1 || a.shape(0) != net.num_params())
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(net.num_params()) +
                          ",) (the model's parameter count), got " + shape_str(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + ": must be C-contiguous");
  if (writable && !a.writeable()) throw py::value_error(std::string(name) + ": must be writeable");
}

const char* const kCurvatureKinds = "'hessian', 'ggn', 'empirical_fisher' or 'mc_fisher'";

CurvatureKind curvature_kind(const std::string& name) {
  if (name == "hessian") return CurvatureKind::hessian;
  if (name == "ggn") return CurvatureKind::ggn;
  if (name == "empirical_fisher") return CurvatureKind::empirical_fisher;
  if (name == "mc_fisher") return CurvatureKind::mc_fisher;
  throw py::value_error("kind: expected " + std::string(kCurvatureKinds) + ", got '" + name + "'");
}

template <class T>
void def_curvature(py::module_& m, const char* name) {
  py::class_<MLPCurvature<T>>(m, name, "Curvature-vector products of an MLP's loss (see fastopt.curvature.network).")
      .def(py::init([](MLP<T>& net, const std::string& kind, uint64_t seed, int64_t draws) {
             if (draws < 1) throw py::value_error("mc_samples: must be >= 1, got " + std::to_string(draws));
             return new MLPCurvature<T>(net, curvature_kind(kind), seed, draws);
           }),
           py::arg("net"), py::arg("kind"), py::arg("seed"), py::arg("mc_samples"), py::keep_alive<1, 2>())
      .def(
          "apply",
          [](MLPCurvature<T>& op, const py::array& x, const py::array& y, const py::array& v,
             py::array out, int64_t first_row, double smoothing, double scale, bool accumulate) {
            MLP<T>& net = op.net();
            const T* xs = checked_inputs(net, x);
            const int64_t batch = x.shape(0);
            const int64_t* labels = checked_labels(net, y, batch);
            check_smoothing(smoothing);
            check_flat(net, v, "v", false);
            check_flat(net, out, "out", true);
            if (first_row < 0) throw py::value_error("first_row: must be >= 0");
            if (!std::isfinite(scale)) throw py::value_error("scale: must be finite");
            const T* vs = static_cast<const T*>(v.data());
            T* outs = static_cast<T*>(out.mutable_data());
            const T* params = net.params();
            const int64_t n = net.num_params();
            const auto overlaps = [n](const T* a, const T* b) { return a < b + n && b < a + n; };
            if (overlaps(outs, vs) || overlaps(outs, params))
              throw py::value_error("out: must not share memory with v or the model's parameters");
            if (const int64_t i = first_non_finite(vs, n); i >= 0)
              throw py::value_error("v: contains a non-finite value (" + std::to_string(vs[i]) + " at index " +
                                    std::to_string(i) + ")");
            if (const int64_t i = first_non_finite(params, n); i >= 0)
              throw py::value_error("model: parameter " + std::to_string(i) + " is not finite (" +
                                    std::to_string(params[i]) + "): the curvature of a diverged network is undefined");
            py::gil_scoped_release release;
            op.apply(xs, labels, batch, first_row, smoothing, vs, outs, scale, accumulate);
          },
          py::arg("x"), py::arg("y"), py::arg("v"), py::arg("out"), py::arg("first_row"),
          py::arg("label_smoothing"), py::arg("scale"), py::arg("accumulate"),
          "out (+ when accumulate)= scale * sum over the rows of C_i v (C_i: row i's curvature matrix).");
}


// base (P,) and directions (m, P) of the network's dtype, coords (N, m) float64, all C-contiguous and finite.
template <class T>
py::dict loss_at_points(MLP<T>& net, const py::array& base, const py::array& directions, const py::array& coords,
                        const py::array& x, const py::array& y, int64_t batch_size, double smoothing,
                        const std::string& activation, double negative_slope, const std::string& parallel) {
  const std::string dtype = py::str(py::dtype::of<T>());
  auto check = [&](const py::array& a, const char* name, bool of_t, int ndim) {
    if (!(of_t ? py::isinstance<py::array_t<T>>(a) : py::isinstance<py::array_t<double>>(a)) ||
        !(a.flags() & py::array::c_style))
      throw py::type_error(std::string(name) + ": expected a C-contiguous " + (of_t ? dtype : "float64") + " array");
    if (a.ndim() != ndim)
      throw py::value_error(std::string(name) + ": expected " + std::to_string(ndim) + " dimensions, got " +
                            shape_str(a));
  };
  check(base, "base", true, 1);
  check(directions, "directions", true, 2);
  check(coords, "coords", false, 2);
  const int64_t n = net.num_params(), m = directions.shape(0), points = coords.shape(0);
  if (base.shape(0) != n)
    throw py::value_error("base: expected " + std::to_string(n) + " parameters, got " + shape_str(base));
  if (m < 1 || directions.shape(1) != n)
    throw py::value_error("directions: expected shape (m >= 1, " + std::to_string(n) + "), got " +
                          shape_str(directions));
  if (coords.shape(1) != m)
    throw py::value_error("coords: expected shape (points, " + std::to_string(m) + ") for " + std::to_string(m) +
                          " directions, got " + shape_str(coords));
  if (points < 1) throw py::value_error("coords: no points");
  const T* xs = checked_inputs(net, x);
  const int64_t batch = x.shape(0);
  const int64_t* labels = checked_labels(net, y, batch);
  check_smoothing(smoothing);
  if (batch_size < 1) throw py::value_error("batch_size: must be >= 1, got " + std::to_string(batch_size));
  if (parallel != "points" && parallel != "rows")
    throw py::value_error("parallel: expected 'points' or 'rows', got '" + parallel + "'");
  size_t act;
  try {
    act = activation_index(activation);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  py::array_t<double> loss(points);
  py::array_t<int64_t> correct(points);
  const SurfaceProblem<T> problem{&net.layers(), act, ActivationParams{negative_slope}, smoothing,
                                  static_cast<const T*>(base.data()), static_cast<const T*>(directions.data()), m,
                                  static_cast<const double*>(coords.data()), points, xs, labels, batch, batch_size};
  double* loss_ptr = loss.mutable_data();
  int64_t* correct_ptr = correct.mutable_data();
  {
    py::gil_scoped_release release;
    evaluate_points(problem, parallel == "points", loss_ptr, correct_ptr);
  }
  py::dict out;
  out["loss"] = loss;
  out["correct"] = correct;
  return out;
}

void def_surface(py::module_& nn) {
  nn.def(
      "loss_at_points",
      [](py::object net, const py::array& base, const py::array& directions, const py::array& coords,
         const py::array& x, const py::array& y, int64_t batch_size, double smoothing, const std::string& activation,
         double negative_slope, const std::string& parallel) {
        if (py::isinstance<MLP<float>>(net))
          return loss_at_points(net.cast<MLP<float>&>(), base, directions, coords, x, y, batch_size, smoothing,
                                activation, negative_slope, parallel);
        if (py::isinstance<MLP<double>>(net))
          return loss_at_points(net.cast<MLP<double>&>(), base, directions, coords, x, y, batch_size, smoothing,
                                activation, negative_slope, parallel);
        throw py::type_error("net: expected an MLPFloat32 or MLPFloat64");
      },
      py::arg("net"), py::arg("base"), py::arg("directions"), py::arg("coords"), py::arg("x"), py::arg("y"),
      py::arg("batch_size"), py::arg("label_smoothing"), py::arg("activation"), py::arg("negative_slope"),
      py::arg("parallel"),
      "{'loss': (N,), 'correct': (N,)} of the network's layers at params base + coords[p] @ directions, on (x, y); "
      "no dropout; the network's own params are not touched.");
}
}  // namespace

void register_nn(py::module_& m) {
  use_single_threaded_blas();
  py::module_ nn = m.def_submodule("nn", "The C++ multilayer perceptron (BLAS GEMMs, fused elementwise passes).");
  nn.def("blas_config", [] { return std::string(blas_config()); }, "The linked OpenBLAS's build configuration.");
  nn.def("activations", [] { return activation_names(); }, "Names of the hidden-layer activations, in C++'s order.");
  def_mlp<float>(nn, "MLPFloat32");
  def_mlp<double>(nn, "MLPFloat64");
  def_curvature<float>(nn, "CurvatureFloat32");
  def_curvature<double>(nn, "CurvatureFloat64");
  def_surface(nn);
}
