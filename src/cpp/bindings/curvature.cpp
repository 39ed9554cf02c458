// Python bindings of the second-order and quasi-Newton methods (fastopt._core.curvature): the
// settings, one minimize run with the GIL released, and the state closure-style optimizers keep
// between steps.  Least squares and the logistic regression have their own binding files.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/curvature_objectives.hpp"
#include "curvature/minimize.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::curvature;

void def_least_squares(py::module_& m);
void def_logistic_regression(py::module_& m);
void def_lanczos(py::module_& m);

namespace {

py::dict run_minimize(const py::object& objective, const InArray& x0, const MethodSettings& settings,
                      const py::object& callback, bool keep_path) {
  if (x0.ndim() != 1) throw py::value_error("x0: expected a 1-D array, got shape " + shape_str(x0));
  const int64_t n = x0.shape(0);
  std::unique_ptr<Objective> obj = make_objective(objective, n);
  const MethodInfo& info = method_info(settings.method);
  if (info.needs_hessian && !obj->has_hessian())
    throw py::value_error("hess: method '" + settings.method + "' needs the Hessian; give hess=");
  if (info.needs_hessp && !obj->has_hessp())
    throw py::value_error("hessp: method '" + settings.method + "' needs Hessian-vector products; give hessp= or hess=");
  PathRecorder path;
  const Observer observe = make_observer(keep_path ? &path : nullptr, callback);
  Result r;
  {
    py::gil_scoped_release release;
    r = minimize(*obj, x0.data(), settings, observe);
  }
  return result_dict(r, keep_path ? &path : nullptr);
}

// A 1-D, C-contiguous, writeable float64 array, updated in place; TypeError/ValueError naming `what`.
double* inout_vector(py::array a, int64_t n, const char* what) {
  if (!a.dtype().is(py::dtype::of<double>())) throw py::type_error(std::string(what) + ": expected float64, got " + dtype_str(a));
  if (a.ndim() != 1 || a.shape(0) != n)
    throw py::value_error(std::string(what) + ": expected shape (" + std::to_string(n) + ",), got " + shape_str(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(what) + ": must be C-contiguous");
  if (!a.writeable()) throw py::value_error(std::string(what) + ": must be writeable");
  return static_cast<double*>(a.mutable_data());
}

py::tuple state_export(DescentState& st) {
  py::dict arrays, scalars;
  for (const NamedArray& a : st.arrays()) arrays[py::str(a.name)] = fresh_copy(a.values->data(), static_cast<int64_t>(a.values->size()));
  for (const NamedScalar& s : st.scalars()) scalars[py::str(s.name)] = *s.value;
  return py::make_tuple(arrays, scalars);
}

void state_load(DescentState& st, const py::dict& arrays, const py::dict& scalars) {
  // Check everything before writing anything.
  for (const NamedArray& a : st.arrays())
    if (!arrays.contains(py::str(a.name))) throw py::value_error("state: missing array '" + a.name + "'");
  for (const NamedScalar& s : st.scalars())
    if (!scalars.contains(py::str(s.name))) throw py::value_error("state: missing scalar '" + s.name + "'");
  std::vector<InArray> values;
  for (const NamedArray& a : st.arrays()) {
    values.push_back(py::reinterpret_borrow<py::object>(arrays[py::str(a.name)]).cast<InArray>());
    if (values.back().ndim() != 1) throw py::value_error("state: array '" + a.name + "' must be 1-D, got shape " + shape_str(values.back()));
  }
  std::vector<double> numbers;
  for (const NamedScalar& s : st.scalars()) numbers.push_back(real_value(scalars[py::str(s.name)], "state scalar '" + s.name + "'"));
  size_t i = 0;
  for (const NamedArray& a : st.arrays()) {
    a.values->assign(values[i].data(), values[i].data() + values[i].size());
    ++i;
  }
  i = 0;
  for (const NamedScalar& s : st.scalars()) *s.value = numbers[i++];
}

// dst <- src for two states of the same method and settings, reusing dst's memory (a closure optimizer's
// per-step snapshot: no allocation after the first).
void state_assign(DescentState& dst, DescentState& src) {
  const std::vector<NamedArray> to = dst.arrays(), from = src.arrays();
  const std::vector<NamedScalar> to_s = dst.scalars(), from_s = src.scalars();
  bool same = to.size() == from.size() && to_s.size() == from_s.size();
  for (size_t i = 0; same && i < to.size(); ++i) same = to[i].name == from[i].name;
  for (size_t i = 0; same && i < to_s.size(); ++i) same = to_s[i].name == from_s[i].name;
  if (!same) throw py::value_error("other: the state of another method");
  py::gil_scoped_release release;
  for (size_t i = 0; i < to.size(); ++i) *to[i].values = *from[i].values;
  for (size_t i = 0; i < to_s.size(); ++i) *to_s[i].value = *from_s[i].value;
}

// One closure-optimizer step: runs from x (f, g evaluated there by the caller), in place.
py::tuple state_run(DescentState& st, const py::object& value_grad, const py::array& x_arr, double f, const py::array& g_arr,
                    const MethodSettings& settings, const py::object& hess) {
  const int64_t n = x_arr.ndim() == 1 ? x_arr.shape(0) : -1;
  double* x = inout_vector(x_arr, n, "x");
  double* g = inout_vector(g_arr, n, "g");
  PyObjective obj(n, value_grad, hess, py::none());
  RunResult r;
  {
    py::gil_scoped_release release;
    r = run_descent(obj, x, f, g, st, settings.descent);
  }
  return py::make_tuple(f, static_cast<int>(r.status), r.message, r.nit, obj.nfev);
}

}  // namespace

void register_curvature(py::module_& root) {
  py::module_ m = root.def_submodule("curvature", "Second-order and quasi-Newton methods, line searches");
  py::class_<Objective>(m, "Objective", "A native objective: f, its gradient, and where it has them, Hessian products")
      .def_property_readonly("dim", &Objective::dim)
      .def_property_readonly("has_hessian", &Objective::has_hessian)
      .def_property_readonly("has_hessp", &Objective::has_hessp)
      .def_readonly("nfev", &Objective::nfev)
      .def_readonly("njev", &Objective::njev)
      .def_readonly("nhev", &Objective::nhev);
  def_logistic_regression(m);
  py::class_<MethodSettings>(m, "Settings", "A method and its settings (fastopt.minimize fills it from its options)")
      .def(py::init<>())
      .def_readwrite("method", &MethodSettings::method)
      .def_readwrite("history_size", &MethodSettings::history_size)
      .def_readwrite("cg_variant", &MethodSettings::cg_variant)
      .def_readwrite("restart_every", &MethodSettings::restart_every)
      .def_readwrite("damping", &MethodSettings::damping)
      .def_readwrite("cg_maxiter", &MethodSettings::cg_maxiter)
      .def_property(
          "initial_trust_radius", [](const MethodSettings& s) { return s.trust.initial_radius; },
          [](MethodSettings& s, double v) { s.trust.initial_radius = v; })
      .def_property(
          "max_trust_radius", [](const MethodSettings& s) { return s.trust.max_radius; },
          [](MethodSettings& s, double v) { s.trust.max_radius = v; })
      .def_property(
          "eta", [](const MethodSettings& s) { return s.trust.eta; }, [](MethodSettings& s, double v) { s.trust.eta = v; })
      .def_property(
          "max_iter", [](const MethodSettings& s) { return s.descent.max_iter; },
          [](MethodSettings& s, int64_t v) { s.descent.max_iter = v; })
      .def_property(
          "max_eval", [](const MethodSettings& s) { return s.descent.max_eval; },
          [](MethodSettings& s, int64_t v) { s.descent.max_eval = v; })
      .def_property(
          "gtol", [](const MethodSettings& s) { return s.descent.gtol; }, [](MethodSettings& s, double v) { s.descent.gtol = v; })
      .def_property(
          "ftol", [](const MethodSettings& s) { return s.descent.ftol; }, [](MethodSettings& s, double v) { s.descent.ftol = v; })
      .def_property(
          "xtol", [](const MethodSettings& s) { return s.descent.xtol; }, [](MethodSettings& s, double v) { s.descent.xtol = v; })
      .def_property(
          "lr", [](const MethodSettings& s) { return s.descent.lr; }, [](MethodSettings& s, double v) { s.descent.lr = v; })
      .def_property(
          "line_search",
          [](const MethodSettings& s) {
            switch (s.descent.line_search.kind) {
              case LineSearchKind::strong_wolfe: return std::string("strong_wolfe");
              case LineSearchKind::armijo: return std::string("armijo");
              case LineSearchKind::none: break;
            }
            return std::string("none");
          },
          [](MethodSettings& s, const std::string& v) { s.descent.line_search.kind = line_search_kind(v); })
      .def_property(
          "c1", [](const MethodSettings& s) { return s.descent.line_search.c1; },
          [](MethodSettings& s, double v) { s.descent.line_search.c1 = v; })
      .def_property(
          "c2", [](const MethodSettings& s) { return s.descent.line_search.c2; },
          [](MethodSettings& s, double v) { s.descent.line_search.c2 = v; })
      .def_property(
          "max_ls", [](const MethodSettings& s) { return s.descent.line_search.max_ls; },
          [](MethodSettings& s, int64_t v) { s.descent.line_search.max_ls = v; })
      .def_property(
          "tolerance_change", [](const MethodSettings& s) { return s.descent.line_search.tolerance_change; },
          [](MethodSettings& s, double v) { s.descent.line_search.tolerance_change = v; });
  m.def(
      "methods",
      [] {
        std::vector<py::tuple> out;
        for (const auto& i : method_infos()) out.push_back(py::make_tuple(i.name, i.summary, i.needs_hessian, i.needs_hessp));
        return out;
      },
      "The native methods as (name, summary, needs_hessian, needs_hessp).");
  m.def("minimize", &run_minimize, py::arg("objective"), py::arg("x0"), py::arg("settings"), py::arg("callback"),
        py::arg("keep_path"),
        "One run of a method; objective is a landscape Function or (value_grad, hess, hessp). Returns a dict.");
  def_least_squares(m);
  def_lanczos(m);
  py::class_<DescentState>(m, "DescentState", "The state a line-search method keeps between closure-optimizer steps")
      .def(py::init([](const MethodSettings& s) {
             std::unique_ptr<Direction> d = make_direction(s);
             if (!d) throw py::value_error("method: '" + s.method + "' is not a line-search method");
             return std::make_unique<DescentState>(std::move(d));
           }),
           py::arg("settings"))
      .def("run", &state_run, py::arg("value_grad"), py::arg("x"), py::arg("f"), py::arg("g"), py::arg("settings"),
           py::arg("hess"), "Iterate from x (f, g given) in place; returns (f, status, message, nit, nfev).")
      .def("export", &state_export, "Copies of the state: (arrays, scalars) dicts.")
      .def("load", &state_load, py::arg("arrays"), py::arg("scalars"), "Replace the state (all checked before any write).")
      .def("assign", &state_assign, py::arg("other"),
           "Make this state a copy of other (same method and settings), reusing this one's memory.");
}
