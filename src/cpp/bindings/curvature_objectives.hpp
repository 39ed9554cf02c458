// What the curvature bindings share: Python objectives and native ones behind one Objective, the
// observer a run reports to (path, callback), and the result dict.  Each evaluation of a Python
// objective takes the GIL back, hands the callable a copy of x that is its own (it may keep it), and
// checks what comes back; an exception raised by the callable propagates out of the method unchanged.
#pragma once
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "curvature/objective.hpp"
#include "curvature/result.hpp"
#include "landscape/function.hpp"
#include "landscape/objective.hpp"

namespace fastopt::bindings {

namespace py = pybind11;
using curvature::Iterate;
using curvature::Objective;
using curvature::Observer;
using curvature::PathRecorder;
using curvature::Result;

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

inline py::array_t<double> fresh_copy(const double* x, int64_t n) {
  py::array_t<double> a(n);
  std::copy(x, x + n, a.mutable_data());
  return a;
}

// Copies a callable's array result into out after checking its shape; ValueError naming `what`.
inline void take_array(const py::handle result, const std::vector<int64_t>& shape, double* out, const std::string& what) {
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
inline std::unique_ptr<Objective> make_objective(const py::object& spec, int64_t n) {
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
inline Observer make_observer(PathRecorder* path, const py::object& callback) {
  if (!path && callback.is_none()) return nullptr;
  return [path, callback](const Iterate& it) {
    if (path) path->record(it.x, it.f, it.n, it.evaluations, it.g);
    if (callback.is_none() || it.iteration == 0) return false;
    py::gil_scoped_acquire gil;
    const py::object g = it.g ? py::object(fresh_copy(it.g, it.n)) : py::object(py::none());
    return py::bool_(callback(it.iteration, fresh_copy(it.x, it.n), it.f, g, it.evaluations)).cast<bool>();
  };
}

inline py::dict result_dict(const Result& r, const PathRecorder* path) {
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

}  // namespace fastopt::bindings
