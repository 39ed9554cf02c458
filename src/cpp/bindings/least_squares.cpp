// Python bindings of Levenberg-Marquardt (fastopt._core.curvature.least_squares): residuals from
// Python callables or a landscape function's own, the settings, and one run with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bindings/curvature_objectives.hpp"
#include "curvature/levenberg_marquardt.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::curvature;

namespace {

// r and J from Python callables: residual(x) -> (m,), jac(x) -> (m, n), or forward differences of r
// when jac is None (scipy's "2-point": h_j = sqrt(eps) max(1, |x_j|); each difference counts in nfev).
// The residuals at x0, evaluated once to learn m, answer the method's first call.
class PyResiduals final : public Residuals {
 public:
  PyResiduals(int64_t n, py::object residual, py::object jac, const InArray& x0, const InArray& r0)
      : Residuals(n, r0.shape(0)), residual_(std::move(residual)), jac_(std::move(jac)), x0_(x0.data(), x0.data() + n),
        r0_(r0.data(), r0.data() + r0.shape(0)) {}
  ~PyResiduals() override {
    py::gil_scoped_acquire gil;
    residual_ = py::object(), jac_ = py::object();
  }

 protected:
  void fill_residuals(const double* x, double* r) override {
    if (!r0_.empty()) {
      const bool at_x0 = std::equal(x0_.begin(), x0_.end(), x);
      if (at_x0) std::copy(r0_.begin(), r0_.end(), r);
      r0_.clear();
      if (at_x0) return;
    }
    py::gil_scoped_acquire gil;
    take_array(residual_(fresh_copy(x, dim())), {count()}, r, "fun");
  }
  void fill_jacobian(const double* x, double* jac) override {
    if (!jac_.is_none()) {
      py::gil_scoped_acquire gil;
      take_array(jac_(fresh_copy(x, dim())), {count(), dim()}, jac, "jac");
      return;
    }
    const int64_t n = dim(), m = count();
    std::vector<double> base(m), shifted(m), step(x, x + n);
    residuals(x, base.data());
    for (int64_t j = 0; j < n; ++j) {
      step[j] = x[j] + std::sqrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, std::fabs(x[j]));
      const double h = step[j] - x[j];
      residuals(step.data(), shifted.data());
      for (int64_t i = 0; i < m; ++i) jac[i * n + j] = (shifted[i] - base[i]) / h;
      step[j] = x[j];
    }
  }

 private:
  py::object residual_, jac_;
  std::vector<double> x0_, r0_;
};

// Dense J (m x n) and J^T J (n x n) are refused past the landscape's dense-Hessian limit.
void check_dense_sizes(int64_t m, int64_t n) {
  if (m > landscape::kMaxHessianEntries / n || n > landscape::kMaxHessianEntries / n)
    throw py::value_error("x0: Levenberg-Marquardt keeps a dense " + std::to_string(m) + " x " + std::to_string(n) +
                          " Jacobian and a " + std::to_string(n) + " x " + std::to_string(n) +
                          " J^T J; both are limited to 2^28 entries");
}

// Levenberg-Marquardt on a landscape Function that is a sum of squares (natively), or on a
// (residual, jac) pair of callables (jac None: forward differences).
py::dict run_least_squares(const py::object& residuals, const InArray& x0, const LeastSquaresOptions& options,
                           const py::object& callback, bool keep_path) {
  if (x0.ndim() != 1) throw py::value_error("x0: expected a 1-D array, got shape " + shape_str(x0));
  const int64_t n = x0.shape(0);
  check_options(options);
  std::unique_ptr<Residuals> res;
  if (py::isinstance<landscape::TestFunction>(residuals)) {
    const auto& f = residuals.cast<const landscape::TestFunction&>();
    if (f.dim() != n)
      throw py::value_error("x0: expected shape (" + std::to_string(f.dim()) + ",) for " + f.name() + ", got (" +
                            std::to_string(n) + ",)");
    if (!f.has_residuals())
      throw py::value_error("fun: " + f.name() + " is not a sum of squares (built-in residuals: rosenbrock, beale, booth, himmelblau)");
    check_dense_sizes(f.residual_count(), n);
    res = std::make_unique<landscape::FunctionResiduals>(f);
  } else {
    if (!py::isinstance<py::tuple>(residuals) || py::len(residuals) != 2)
      throw py::type_error("fun: expected a landscape Function or a (residual, jac) tuple");
    const auto t = residuals.cast<py::tuple>();
    // One evaluation at x0 tells m; the method's first evaluation reuses it.
    const InArray r0 = t[0](fresh_copy(x0.data(), n)).cast<InArray>();
    if (r0.ndim() != 1 || r0.shape(0) == 0)
      throw py::value_error("fun: must return a non-empty 1-D array of residuals, got shape " + shape_str(r0));
    check_dense_sizes(r0.shape(0), n);
    res = std::make_unique<PyResiduals>(n, t[0], t[1], x0, r0);
  }
  PathRecorder path;
  const Observer observe = make_observer(keep_path ? &path : nullptr, callback);
  LeastSquaresResult r;
  {
    py::gil_scoped_release release;
    r = levenberg_marquardt(*res, x0.data(), options, observe);
  }
  py::dict d = result_dict(r, keep_path ? &path : nullptr);
  const auto m = static_cast<py::ssize_t>(r.residuals.size());
  d["cost"] = r.f;
  d["grad"] = d["jac"];
  d["fun"] = fresh_copy(r.residuals.data(), m);
  py::array_t<double> jac({m, static_cast<py::ssize_t>(n)});
  std::copy(r.jacobian.begin(), r.jacobian.end(), jac.mutable_data());
  d["jac"] = jac;
  d.attr("pop")("nhev");
  return d;
}

}  // namespace

void def_least_squares(py::module_& m) {
  py::class_<LeastSquaresOptions>(m, "LeastSquaresSettings", "Levenberg-Marquardt's settings (fastopt.least_squares fills them)")
      .def(py::init<>())
      .def_readwrite("xtol", &LeastSquaresOptions::xtol)
      .def_readwrite("ftol", &LeastSquaresOptions::ftol)
      .def_readwrite("gtol", &LeastSquaresOptions::gtol)
      .def_readwrite("max_nfev", &LeastSquaresOptions::max_nfev)
      .def_readwrite("damping", &LeastSquaresOptions::damping)
      .def_readwrite("adaptive", &LeastSquaresOptions::adaptive);
  m.def("least_squares", &run_least_squares, py::arg("residuals"), py::arg("x0"), py::arg("settings"), py::arg("callback"),
        py::arg("keep_path"),
        "Levenberg-Marquardt; residuals is a landscape Function with residuals or (residual, jac). Returns a dict "
        "(cost = |r|^2 / 2, fun = r, jac = J, grad = J^T r).");
}
