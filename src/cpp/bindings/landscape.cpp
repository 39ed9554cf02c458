// Python bindings of the landscape test functions and of the native trajectory loop
// (fastopt._core.landscape).  Inputs are validated with the GIL held; grids and trajectories then
// run with it released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "common/parallel.hpp"
#include "landscape/registry.hpp"
#include "landscape/trajectory.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::landscape;

namespace {

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;  // read-only inputs

// Checks that `x` is one point of f: shape (dim,).
void check_point(const TestFunction& f, const InArray& x, const char* arg) {
  if (x.ndim() != 1 || x.shape(0) != f.dim())
    throw py::value_error(std::string(arg) + ": expected shape (" + std::to_string(f.dim()) + ",) for " + f.name() +
                          " (dim=" + std::to_string(f.dim()) + "), got " + shape_str(x));
}

py::array_t<double> grad(const TestFunction& f, const InArray& x) {
  check_point(f, x, "x");
  py::array_t<double> g(f.dim());
  f.evaluate(x.data(), g.mutable_data());
  return g;
}

py::array_t<double> hessian(const TestFunction& f, const InArray& x) {
  check_point(f, x, "x");
  f.check_dense_hessian();  // before the dim x dim allocation, which could fail first
  py::array_t<double> h({f.dim(), f.dim()});
  f.hessian(x.data(), h.mutable_data());
  return h;
}

py::array_t<double> hessp(const TestFunction& f, const InArray& x, const InArray& p) {
  check_point(f, x, "x");
  check_point(f, p, "p");
  py::array_t<double> out(f.dim());
  f.hessp(x.data(), p.data(), out.mutable_data());
  return out;
}

py::array_t<double> residuals(const TestFunction& f, const InArray& x) {
  check_point(f, x, "x");
  py::array_t<double> r(f.has_residuals() ? f.residual_count() : 0);
  f.residuals(x.data(), r.mutable_data());
  return r;
}

py::array_t<double> jacobian(const TestFunction& f, const InArray& x) {
  check_point(f, x, "x");
  const int64_t m = f.has_residuals() ? f.residual_count() : 0;
  if (m > kMaxHessianEntries / f.dim())
    throw py::value_error("jacobian: " + f.name() + " at dim=" + std::to_string(f.dim()) + " has a " + std::to_string(m) +
                          " x " + std::to_string(f.dim()) + " Jacobian, past the 2^28-entry limit of dense matrices");
  py::array_t<double> jac({m, f.dim()});
  f.jacobian(x.data(), jac.mutable_data());
  return jac;
}

// f at every point (X[i], Y[i]) of a grid of any shape, in one call (OpenMP over the points).
py::array_t<double> grid(const TestFunction& f, const InArray& X, const InArray& Y) {
  if (f.dim() != 2)
    throw py::value_error("grid: " + f.name() + " has dim=" + std::to_string(f.dim()) + "; grids need dim=2");
  bool same = X.ndim() == Y.ndim();
  for (py::ssize_t d = 0; same && d < X.ndim(); ++d) same = X.shape(d) == Y.shape(d);
  if (!same) throw py::value_error("grid: X has shape " + shape_str(X) + " but Y has shape " + shape_str(Y));
  py::array_t<double> out(std::vector<py::ssize_t>(X.shape(), X.shape() + X.ndim()));
  const double *x = X.data(), *y = Y.data();
  double* z = out.mutable_data();
  const int64_t n = X.size();
  {
    py::gil_scoped_release release;
#if FASTOPT_HAVE_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads_for(n, kSerialBelowGridPoints)) if (n >= kSerialBelowGridPoints && num_threads() > 1)
#endif
    for (int64_t i = 0; i < n; ++i) {
      const double p[2] = {x[i], y[i]};
      z[i] = f.evaluate(p, nullptr);
    }
  }
  return out;
}

// The native trajectory of an optimizer on f; see landscape/trajectory.hpp.  `stages` lists the
// optimizer's kernel calls as (spec, group, carry, every), as fastopt's Optimizer.kernel_calls gives them.
// Returns (path (steps+1, dim), losses (steps+1,), grad_norms (steps+1,)).
py::tuple trajectory(const TestFunction& f, const py::list& stage_list, const InArray& x0, const InArray& lrs,
                     const py::object& noise_obj) {
  std::vector<Stage> stages;
  for (const py::handle item : stage_list) {
    const auto t = py::reinterpret_borrow<py::tuple>(item);
    if (!py::isinstance<py::tuple>(item) || t.size() != 4)
      throw py::type_error("stages: expected (spec, group, carry, every) tuples");
    const Kernel& kernel = t[0].cast<const Kernel&>();
    const int64_t every = t[3].cast<int64_t>();
    if (every < 1) throw py::value_error("stages: every must be >= 1, got " + std::to_string(every));
    stages.push_back({&kernel, hyper_from_group(*kernel.spec, t[1].cast<py::dict>(), t[2].cast<py::dict>()), every});
  }
  if (stages.empty()) throw py::value_error("stages: expected at least one kernel call");
  check_point(f, x0, "x0");
  if (lrs.ndim() != 1) throw py::value_error("lrs: expected a 1-D array of per-step learning rates, got shape " + shape_str(lrs));
  const int64_t steps = lrs.shape(0), dim = f.dim();
  InArray noise;
  if (!noise_obj.is_none()) {
    noise = noise_obj.cast<InArray>();
    if (noise.ndim() != 2 || noise.shape(0) != steps || noise.shape(1) != dim)
      throw py::value_error("noise: expected shape (" + std::to_string(steps) + ", " + std::to_string(dim) + "), got " +
                            shape_str(noise));
  }
  for (const Stage& s : stages)
    if (s.kernel->spec->num_states(s.hyper) > kMaxStates) throw py::value_error("stages: too many state slots");
  py::array_t<double> path({steps + 1, dim}), losses(steps + 1), grad_norms(steps + 1);
  const TrajectorySpec spec{x0.data(), steps, lrs.data(), noise_obj.is_none() ? nullptr : noise.data()};
  double *p = path.mutable_data(), *l = losses.mutable_data(), *gn = grad_norms.mutable_data();
  {
    py::gil_scoped_release release;
    run_trajectory(f, std::move(stages), spec, p, l, gn);
  }
  return py::make_tuple(path, losses, grad_norms);
}

}  // namespace

void register_landscape(py::module_& root) {
  py::module_ m = root.def_submodule("landscape", "Test functions with analytic gradients and Hessians; native trajectories");
  py::class_<TestFunction>(m, "Function", "A test function (build one with make)")
      .def_property_readonly("name", &TestFunction::name)
      .def_property_readonly("dim", &TestFunction::dim)
      .def_property_readonly("minima", [](const TestFunction& f) { return f.minima; })
      .def_property_readonly("min_value", [](const TestFunction& f) { return f.min_value; })
      .def_property_readonly("domain", [](const TestFunction& f) {
        return py::make_tuple(py::make_tuple(f.domain.x_min, f.domain.x_max), py::make_tuple(f.domain.y_min, f.domain.y_max));
      })
      .def_property_readonly("start", [](const TestFunction& f) { return f.start; })
      .def("value", [](const TestFunction& f, const InArray& x) { check_point(f, x, "x"); return f.evaluate(x.data(), nullptr); },
           py::arg("x"), "f(x) at one point of shape (dim,).")
      .def("grad", &grad, py::arg("x"), "The analytic gradient at one point, shape (dim,).")
      .def("hessian", &hessian, py::arg("x"), "The analytic Hessian at one point, shape (dim, dim).")
      .def("hessp", &hessp, py::arg("x"), py::arg("p"), "The Hessian-vector product H(x) p, shape (dim,).")
      .def_property_readonly("has_residuals", &TestFunction::has_residuals)
      .def("residuals", &residuals, py::arg("x"), "The residuals r(x) of f = |r|^2 (sums of squares only).")
      .def("jacobian", &jacobian, py::arg("x"), "The Jacobian dr/dx, shape (m, dim) (sums of squares only).")
      .def("grid", &grid, py::arg("X"), py::arg("Y"), "f at every point of a grid (e.g. from numpy.meshgrid), in one call.");
  m.def("functions", &function_names, "Names of the built-in test functions.");
  m.def("make", &make_function, py::arg("name"), py::arg("dim"), py::arg("params"),
        "Build a test function by name, dimension and parameters (a dict overriding the defaults).");
  m.def("trajectory", &trajectory, py::arg("function"), py::arg("stages"), py::arg("x0"), py::arg("lrs"),
        py::arg("noise"), "Run an optimizer's kernel calls on `function` natively; returns (path, losses, grad_norms).");
}
