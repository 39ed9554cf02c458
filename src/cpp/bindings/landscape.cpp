// Python bindings of the landscape test functions and of the native trajectory loop
// (fastopt._core.landscape).  Inputs are validated with the GIL held; grids and trajectories then
// run with it released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "common/parallel.hpp"
#include "landscape/registry.hpp"
#include "landscape/trajectory.hpp"
#include "optim/all.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::landscape;

namespace {

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;  // read-only inputs

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

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
  py::array_t<double> h({f.dim(), f.dim()});
  f.hessian(x.data(), h.mutable_data());
  return h;
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

// The native trajectory of optimizer rule `kernel` on f; see landscape/trajectory.hpp.
// Returns (path (steps+1, dim), losses (steps+1,), grad_norms (steps+1,)).
py::tuple trajectory(const TestFunction& f, const std::string& kernel, const py::dict& hyper_dict,
                     const std::vector<double>& state_init, const InArray& x0, const InArray& lrs,
                     const py::object& noise_obj, int64_t lookahead_k, double lookahead_alpha) {
  Hyper hyper;
  for (auto item : hyper_dict) hyper.set(item.first.cast<std::string>(), item.second.cast<double>());
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
  if (lookahead_k < 0) throw py::value_error("lookahead_k: must be >= 0, got " + std::to_string(lookahead_k));
  py::array_t<double> path({steps + 1, dim}), losses(steps + 1), grad_norms(steps + 1);
  const TrajectorySpec spec{x0.data(), steps, lrs.data(), noise_obj.is_none() ? nullptr : noise.data(),
                            state_init.data(), lookahead_k, lookahead_alpha};
  double *p = path.mutable_data(), *l = losses.mutable_data(), *gn = grad_norms.mutable_data();
  const bool found = kernel != Lookahead::name && with_optimizer(kernel, [&](auto opt) {
    using Opt = decltype(opt);
    if (static_cast<int>(state_init.size()) != Opt::num_states(hyper))
      throw py::value_error("state_init: " + kernel + " needs " + std::to_string(Opt::num_states(hyper)) +
                            " state slots with these hyperparameters, got " + std::to_string(state_init.size()));
    py::gil_scoped_release release;
    run_trajectory<Opt>(f, hyper, spec, p, l, gn);
  });
  if (!found) {
    std::vector<std::string> names;
    for_each_optimizer([&](auto opt) {
      if (std::string(decltype(opt)::name) != Lookahead::name) names.push_back(decltype(opt)::name);
    });
    throw py::value_error("kernel: unknown optimizer rule '" + kernel + "'; choose from " + joined(names));
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
      .def("grid", &grid, py::arg("X"), py::arg("Y"), "f at every point of a grid (e.g. from numpy.meshgrid), in one call.");
  m.def("functions", &function_names, "Names of the built-in test functions.");
  m.def("make", &make_function, py::arg("name"), py::arg("dim"), py::arg("params"),
        "Build a test function by name, dimension and parameters (a dict overriding the defaults).");
  m.def("trajectory", &trajectory, py::arg("function"), py::arg("kernel"), py::arg("hyper"), py::arg("state_init"),
        py::arg("x0"), py::arg("lrs"), py::arg("noise"), py::arg("lookahead_k"), py::arg("lookahead_alpha"),
        "Run optimizer rule `kernel` on `function` natively; returns (path, losses, grad_norms).");
}
