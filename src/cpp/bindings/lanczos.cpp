// Python bindings of the Lanczos core (fastopt._core.curvature.lanczos_*): the iteration runs natively
// with the GIL released and calls back the operator's Python matvec with the GIL taken back, each
// time with a fresh copy of the basis vector (the callable may keep it).  The callable's result is
// checked for shape here; fastopt.curvature's operator wrapper checks dtype and finiteness before.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/curvature_objectives.hpp"
#include "curvature/lanczos.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::curvature;

namespace {

int64_t start_dimension(const InArray& start) {
  if (start.ndim() != 1) throw py::value_error("start: expected a 1-D array, got shape " + shape_str(start));
  return start.shape(0);
}

MatVec python_matvec(const py::object& matvec, int64_t n) {
  return [&matvec, n](const double* v, double* out) {
    py::gil_scoped_acquire gil;
    take_array(matvec(fresh_copy(v, n)), {n}, out, "matvec");
  };
}

// (alpha, beta) of T_m after `steps` steps from `start` (beta has steps - 1 entries).
py::tuple lanczos_tridiagonal(const py::object& matvec, const InArray& start, int64_t steps) {
  const int64_t n = start_dimension(start);
  if (steps < 1 || steps > n)
    throw py::value_error("steps: must be in [1, " + std::to_string(n) + "] (the dimension), got " + std::to_string(steps));
  std::vector<double> basis(static_cast<size_t>(steps * n));
  const MatVec apply = python_matvec(matvec, n);
  std::vector<double> alpha, beta;
  {
    py::gil_scoped_release release;
    Lanczos lanczos(n, steps, basis.data(), start.data());
    while (lanczos.step(apply)) {
    }
    alpha = lanczos.alpha(), beta = lanczos.beta();
  }
  return py::make_tuple(py::array_t<double>(static_cast<py::ssize_t>(alpha.size()), alpha.data()),
                        py::array_t<double>(static_cast<py::ssize_t>(beta.size()), beta.data()));
}

py::dict lanczos_eigen(const py::object& matvec, const InArray& start, int64_t k, const std::string& which, double tol,
                       int64_t max_steps, bool want_vectors) {
  const int64_t n = start_dimension(start);
  const SpectrumEnd end = spectrum_end(which);
  if (max_steps < 1 || max_steps > n)
    throw py::value_error("max_iter: must be in [1, " + std::to_string(n) + "] (the dimension), got " + std::to_string(max_steps));
  std::vector<double> basis(static_cast<size_t>(max_steps * n));
  const MatVec apply = python_matvec(matvec, n);
  ExtremalEigen e;
  {
    py::gil_scoped_release release;
    e = extremal_eigen(apply, start.data(), n, k, end, tol, max_steps, basis.data(), want_vectors);
  }
  py::dict d;
  const auto count = static_cast<py::ssize_t>(e.values.size());
  d["values"] = py::array_t<double>(count, e.values.data());
  d["residuals"] = py::array_t<double>(count, e.residuals.data());
  d["steps"] = e.steps;
  d["converged"] = e.converged;
  if (want_vectors) {
    py::array_t<double> vectors({count, static_cast<py::ssize_t>(n)});
    std::copy(e.vectors.begin(), e.vectors.end(), vectors.mutable_data());
    d["vectors"] = vectors;
  }
  return d;
}

}  // namespace

void def_lanczos(py::module_& m) {
  m.def("lanczos_tridiagonal", &lanczos_tridiagonal, py::arg("matvec"), py::arg("start"), py::arg("steps"),
        "Lanczos with full reorthogonalisation: (alpha, beta) of the tridiagonal T after `steps` matvecs.");
  m.def("lanczos_eigen", &lanczos_eigen, py::arg("matvec"), py::arg("start"), py::arg("k"), py::arg("which"),
        py::arg("tol"), py::arg("max_steps"), py::arg("want_vectors"),
        "The k extremal eigenpairs ('largest', 'smallest', 'both') by Lanczos to a relative residual tol; a dict.");
}
