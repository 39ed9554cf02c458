// Python bindings of the second-order and quasi-Newton methods (fastopt._core.curvature).
//
// A method runs with the GIL released.  A Python objective is a PyObjective: each evaluation takes
// the GIL back, hands the callable a copy of x that is its own (it may keep it), and checks what
// comes back.
// An exception raised by the callable propagates out of the method unchanged.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "curvature/minimize.hpp"
#include "landscape/function.hpp"
#include "landscape/objective.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using namespace fastopt::curvature;

namespace {

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::array_t<double> fresh_copy(const double* x, int64_t n) {
  py::array_t<double> a(n);
  std::copy(x, x + n, a.mutable_data());
  return a;
}

// Copies a callable's array result into out after checking its shape; ValueError naming `what`.
void take_array(const py::handle result, const std::vector<int64_t>& shape, double* out, const std::string& what) {
  const InArray a = py::reinterpret_borrow<py::object>(result).cast<InArray>();
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = a.shape(d) == shape[d];
  if (!ok) {
    std::string want = "(";
    for (size_t d = 0; d < shape.size(); ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
    throw py::value_error(what + ": returned shape " + shape_str(a) + ", expected " + want + (shape.size() == 1 ? ",)" : ")"));
  }
  std::copy(a.data(), a.data() + a.size(), out);
}

// f, g (and H or Hp where given) from Python callables: value_grad(x) -> (f, g), hess(x) -> H,
// hessp(x, p) -> H p.
class PyObjective final : public Objective {
 public:
  PyObjective(int64_t n, py::object value_grad, py::object hess, py::object hessp)
      : Objective(n), value_grad_(std::move(value_grad)), hess_(std::move(hess)), hessp_(std::move(hessp)) {}
  ~PyObjective() override {
    py::gil_scoped_acquire gil;
    value_grad_ = py::object(), hess_ = py::object(), hessp_ = py::object(), x_arg_ = py::array_t<double>();
  }
  bool has_hessian() const override { return !hess_.is_none(); }
  bool has_hessp() const override { return !hessp_.is_none() || has_hessian(); }

 protected:
  double evaluate(const double* x, double* g) override {
    py::gil_scoped_acquire gil;
    const py::object out = value_grad_(argument(x));
    if (!py::isinstance<py::tuple>(out) || py::len(out) != 2)
      throw py::type_error("fun: the value-and-gradient callable must return (f, g)");
    const auto pair = py::reinterpret_borrow<py::tuple>(out);
    const double f = real_value(pair[0], "fun");
    if (g) take_array(pair[1], {dim()}, g, "jac");
    return f;
  }
  void fill_hessian(const double* x, double* h) override {
    py::gil_scoped_acquire gil;
    take_array(hess_(fresh_copy(x, dim())), {dim(), dim()}, h, "hess");
  }
  void fill_hessp(const double* x, const double* p, double* out) override {
    if (hessp_.is_none()) return Objective::fill_hessp(x, p, out);
    py::gil_scoped_acquire gil;
    take_array(hessp_(fresh_copy(x, dim()), fresh_copy(p, dim())), {dim()}, out, "hessp");
  }

 private:
  // x for the callable: the array of the last call refilled when nobody but us holds it any more
  // (the callable kept neither it nor a view of it), else a new one.  At n = 1e6 a new 8 MB array
  // per call costs more than the copy: the allocator returns it to the OS and every page faults
  // again (bench/bench_lbfgs_large.py).  Needs the GIL.
  py::array_t<double> argument(const double* x) {
    if (!x_arg_ || x_arg_.ref_count() > 1 || !x_arg_.writeable() || x_arg_.ndim() != 1 || x_arg_.shape(0) != dim())
      x_arg_ = py::array_t<double>(dim());
    std::copy(x, x + dim(), x_arg_.mutable_data());
    return x_arg_;
  }

  py::object value_grad_, hess_, hessp_;
  py::array_t<double> x_arg_;
};

// Lends a native objective owned by Python (e.g. fastopt's logistic regression) to a run.
class Borrowed final : public Objective {
 public:
  explicit Borrowed(Objective& inner) : Objective(inner.dim()), inner_(inner) {}
  bool has_hessian() const override { return inner_.has_hessian(); }
  bool has_hessp() const override { return inner_.has_hessp(); }

 protected:
  double evaluate(const double* x, double* g) override { return inner_.value_grad(x, g); }
  void fill_hessian(const double* x, double* h) override { inner_.hessian(x, h); }
  void fill_hessp(const double* x, const double* p, double* out) override { inner_.hessp(x, p, out); }

 private:
  Objective& inner_;
};

// The objective: a native Objective bound to Python, a built-in landscape function (both run
// natively), or (value_grad, hess, hessp) callables.
std::unique_ptr<Objective> make_objective(const py::object& spec, int64_t n) {
  if (py::isinstance<Objective>(spec)) {
    Objective& inner = spec.cast<Objective&>();
    if (inner.dim() != n)
      throw py::value_error("x0: expected shape (" + std::to_string(inner.dim()) + ",) for this objective, got (" +
                            std::to_string(n) + ",)");
    return std::make_unique<Borrowed>(inner);
  }
  if (py::isinstance<landscape::TestFunction>(spec)) {
    const auto& f = spec.cast<const landscape::TestFunction&>();
    if (f.dim() != n)
      throw py::value_error("x0: expected shape (" + std::to_string(f.dim()) + ",) for " + f.name() + ", got (" +
                            std::to_string(n) + ",)");
    return std::make_unique<landscape::FunctionObjective>(f);
  }
  if (!py::isinstance<py::tuple>(spec) || py::len(spec) != 3)
    throw py::type_error("objective: expected a landscape Function or a (value_grad, hess, hessp) tuple");
  const auto t = spec.cast<py::tuple>();
  return std::make_unique<PyObjective>(n, t[0], t[1], t[2]);
}

// The observer a run reports to: an optional path recorder and an optional Python callback
// callback(k, x, f, g, nfev) -> truthy to stop.
Observer make_observer(PathRecorder* path, const py::object& callback) {
  if (!path && callback.is_none()) return nullptr;
  return [path, callback](const Iterate& it) {
    if (path) path->record(it.x, it.f, it.n, it.evaluations);
    if (callback.is_none() || it.iteration == 0) return false;
    py::gil_scoped_acquire gil;
    const py::object g = it.g ? py::object(fresh_copy(it.g, it.n)) : py::object(py::none());
    return py::bool_(callback(it.iteration, fresh_copy(it.x, it.n), it.f, g, it.evaluations)).cast<bool>();
  };
}

py::dict result_dict(const Result& r, const PathRecorder* path) {
  py::dict d;
  d["x"] = fresh_copy(r.x.data(), static_cast<int64_t>(r.x.size()));
  d["fun"] = r.f;
  d["jac"] = fresh_copy(r.g.data(), static_cast<int64_t>(r.g.size()));
  d["nit"] = r.nit, d["nfev"] = r.nfev, d["njev"] = r.njev, d["nhev"] = r.nhev;
  d["status"] = static_cast<int>(r.status);
  d["success"] = successful(r.status);
  d["message"] = r.message;
  if (path) {
    const auto n = static_cast<py::ssize_t>(r.x.size());
    const auto k = static_cast<py::ssize_t>(path->values.size());
    py::array_t<double> points({k, n});
    std::copy(path->points.begin(), path->points.end(), points.mutable_data());
    d["path"] = points;
    d["path_fun"] = py::array_t<double>(k, path->values.data());
    d["path_nfev"] = py::array_t<int64_t>(k, path->evaluations.data());
  }
  return d;
}

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
  py::class_<MethodSettings>(m, "Settings", "A method and its settings (fastopt.minimize fills it from its options)")
      .def(py::init<>())
      .def_readwrite("method", &MethodSettings::method)
      .def_readwrite("history_size", &MethodSettings::history_size)
      .def_readwrite("cg_variant", &MethodSettings::cg_variant)
      .def_readwrite("restart_every", &MethodSettings::restart_every)
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
      .def("load", &state_load, py::arg("arrays"), py::arg("scalars"), "Replace the state (all checked before any write).");
}
