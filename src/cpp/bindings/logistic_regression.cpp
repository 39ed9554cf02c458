// Python bindings of the native multinomial logistic regression (fastopt._core.curvature.LogisticRegression),
// a curvature Objective that fastopt.minimize runs without calling Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings/curvature_objectives.hpp"
#include "curvature/logistic_regression.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::curvature;

namespace {

// ---- the logistic-regression objective
// X (N, d) float32 or float64 (kept in that precision), y (N,) integer labels in [0, classes), l2 >= 0;
// every check before any copy, each error naming its argument.
std::unique_ptr<LogisticRegression> make_logistic_regression(const py::array& x, const py::array& y, int64_t classes,
                                                             double l2) {
  const bool single = x.dtype().is(py::dtype::of<float>());
  if (!single && !x.dtype().is(py::dtype::of<double>()))
    throw py::type_error("X: expected float32 or float64 features, got " + dtype_str(x));
  if (x.ndim() != 2 || x.shape(0) < 1 || x.shape(1) < 1)
    throw py::value_error("X: expected a non-empty 2-D array (samples, features), got shape " + shape_str(x));
  const char kind = y.dtype().kind();
  if (kind != 'i' && kind != 'u') throw py::type_error("y: expected integer labels, got " + dtype_str(y));
  if (y.ndim() != 1 || y.shape(0) != x.shape(0))
    throw py::value_error("y: expected shape (" + std::to_string(x.shape(0)) + ",) to match X's rows, got " + shape_str(y));
  if (classes < 2) throw py::value_error("classes: must be >= 2, got " + std::to_string(classes));
  if (!(l2 >= 0 && std::isfinite(l2))) throw py::value_error("l2: must be finite and >= 0, got " + std::to_string(l2));
  const auto labels = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(y);
  for (py::ssize_t i = 0; i < labels.shape(0); ++i)
    if (labels.data()[i] < 0 || labels.data()[i] >= classes)
      throw py::value_error("y: labels must lie in [0, " + std::to_string(classes) + "), got " +
                            std::to_string(labels.data()[i]) + " at index " + std::to_string(i));
  std::vector<float> x32;
  std::vector<double> x64;
  auto take = [](const auto& a, auto& into) {
    for (py::ssize_t i = 0; i < a.size(); ++i)
      if (!std::isfinite(a.data()[i])) throw py::value_error("X: must be finite (it holds NaN or Inf)");
    into.assign(a.data(), a.data() + a.size());
  };
  if (single) take(py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(x), x32);
  else take(py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x), x64);
  std::vector<int64_t> owned(labels.data(), labels.data() + labels.shape(0));
  return std::make_unique<LogisticRegression>(std::move(x32), std::move(x64), std::move(owned), x.shape(1), classes, l2);
}

// A float64 vector of the objective's dimension; ValueError naming `what`.
InArray parameter_vector(const Objective& obj, const py::object& v, const char* what) {
  InArray a = v.cast<InArray>();
  if (a.ndim() != 1 || a.shape(0) != obj.dim())
    throw py::value_error(std::string(what) + ": expected shape (" + std::to_string(obj.dim()) + ",), got " + shape_str(a));
  return a;
}

}  // namespace

void def_logistic_regression(py::module_& m) {
  py::class_<LogisticRegression, Objective>(m, "LogisticRegression",
                                            "Multinomial logistic regression on (X, y), value, gradient and exact "
                                            "Hessian-vector products natively (fastopt.curvature.LogisticRegression)")
      .def(py::init(&make_logistic_regression), py::arg("X"), py::arg("y"), py::arg("classes"), py::arg("l2"))
      .def_property_readonly("samples", &LogisticRegression::samples)
      .def_property_readonly("features", &LogisticRegression::features)
      .def_property_readonly("classes", &LogisticRegression::classes)
      .def_property_readonly("l2", &LogisticRegression::l2)
      .def_property_readonly("dtype", [](const LogisticRegression& o) { return o.stores_float32() ? "float32" : "float64"; })
      .def_readonly("seconds", &LogisticRegression::seconds, "Wall seconds spent in evaluations so far.")
      .def(
          "value",
          [](LogisticRegression& o, const py::object& x) {
            const InArray a = parameter_vector(o, x, "x");
            py::gil_scoped_release release;
            return o.value_grad(a.data(), nullptr);
          },
          py::arg("x"), "f(x)")
      .def(
          "value_grad",
          [](LogisticRegression& o, const py::object& x) {
            const InArray a = parameter_vector(o, x, "x");
            py::array_t<double> g(o.dim());
            double* out = g.mutable_data();
            double f;
            {
              py::gil_scoped_release release;
              f = o.value_grad(a.data(), out);
            }
            return py::make_tuple(f, g);
          },
          py::arg("x"), "(f(x), gradient)")
      .def(
          "hessp",
          [](LogisticRegression& o, const py::object& x, const py::object& p) {
            const InArray a = parameter_vector(o, x, "x");
            const InArray b = parameter_vector(o, p, "p");
            py::array_t<double> hp(o.dim());
            double* out = hp.mutable_data();
            {
              py::gil_scoped_release release;
              o.hessp(a.data(), b.data(), out);
            }
            return hp;
          },
          py::arg("x"), py::arg("p"), "H(x) p");
}
