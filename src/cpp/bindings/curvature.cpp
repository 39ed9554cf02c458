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

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "curvature/levenberg_marquardt.hpp"
#include "curvature/logistic_regression.hpp"
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
    if (path) path->record(it.x, it.f, it.n, it.evaluations, it.g);
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
  d["weak_steps"] = r.weak_steps;
  if (path) {
    const auto n = static_cast<py::ssize_t>(r.x.size());
    const auto k = static_cast<py::ssize_t>(path->values.size());
    py::array_t<double> points({k, n});
    std::copy(path->points.begin(), path->points.end(), points.mutable_data());
    d["path"] = points;
    d["path_fun"] = py::array_t<double>(k, path->values.data());
    d["path_nfev"] = py::array_t<int64_t>(k, path->evaluations.data());
    d["path_grad_norm"] = py::array_t<double>(k, path->grad_norms.data());
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
