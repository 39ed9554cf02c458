// Python bindings of the matrix optimizers (Muon, Adafactor): one call per param group that validates
// every array (GIL held, before any write), takes raw pointers and runs the group's step with the GIL
// released.  Their state is not elementwise (Adafactor's row and column factors), so they have their
// own entry points beside the Spec kernels of optim.cpp.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <tuple>
#include <vector>

#include "bindings/convert.hpp"
#include "optim/adafactor.hpp"
#include "optim/muon.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;

namespace {

// Validates the arrays of one tensor of a group: its param, grad and state arrays with the sizes expected of
// them; TypeError/ValueError naming the param and the array, before anything is written.
struct TensorArrays {
  py::array param, grad;
  std::vector<py::array> states;
  bool f32 = true;
};

bool overlaps(const py::array& a, const py::array& b) {
  if (a.size() == 0 || b.size() == 0) return false;
  const char* pa = static_cast<const char*>(a.data());
  const char* pb = static_cast<const char*>(b.data());
  return pa < pb + b.nbytes() && pb < pa + a.nbytes();
}

TensorArrays check_tensor(py::handle p, py::handle g, const std::vector<py::handle>& states,
                          const std::vector<int64_t>& sizes, const std::vector<std::string>& state_names,
                          const std::string& name) {
  const std::string where = "param '" + name + "'";
  if (!py::isinstance<py::array>(p)) throw py::type_error(where + ": expected a numpy.ndarray, got " + type_name(p));
  TensorArrays out;
  out.param = py::reinterpret_borrow<py::array>(p);
  const py::dtype dt = out.param.dtype();
  const bool f32 = dt.is(py::dtype::of<float>()) || dt.equal(py::dtype::of<float>());
  if (!f32 && !dt.equal(py::dtype::of<double>()))
    throw py::type_error(where + ": unsupported dtype " + dtype_str(out.param) + " (float32 or float64 expected)");
  out.f32 = f32;
  if (!(out.param.flags() & py::array::c_style)) throw py::value_error(where + ": must be C-contiguous");
  if (!out.param.writeable()) throw py::value_error(where + ": array is read-only");
  if (!py::isinstance<py::array>(g))
    throw py::type_error("grad for " + where + ": expected a numpy.ndarray, got " + type_name(g));
  out.grad = py::reinterpret_borrow<py::array>(g);
  if (!out.grad.dtype().equal(dt))
    throw py::type_error("grad for " + where + ": dtype " + dtype_str(out.grad) + " does not match the param's " +
                         dtype_str(out.param));
  if (shape_str(out.grad) != shape_str(out.param))
    throw py::value_error("grad for " + where + ": shape " + shape_str(out.grad) + " does not match the param's " +
                          shape_str(out.param));
  if (!(out.grad.flags() & py::array::c_style)) throw py::value_error("grad for " + where + ": must be C-contiguous");
  if (overlaps(out.grad, out.param)) throw py::value_error("grad for " + where + ": shares memory with the param itself");
  for (size_t k = 0; k < states.size(); ++k) {
    const std::string what = "optimizer state '" + state_names[k] + "' of " + where;
    if (!py::isinstance<py::array>(states[k])) throw py::type_error(what + ": expected a numpy.ndarray");
    py::array s = py::reinterpret_borrow<py::array>(states[k]);
    if (!s.dtype().equal(dt) || s.size() != sizes[k] || !(s.flags() & py::array::c_style) || !s.writeable())
      throw py::value_error(what + " does not match the param (dtype " + dtype_str(s) + ", shape " + shape_str(s) +
                            "); was load_state_dict given another layout?");
    if (overlaps(s, out.param) || overlaps(s, out.grad)) throw py::value_error(what + " shares memory with the param or grad");
    out.states.push_back(s);
  }
  return out;
}

py::handle item(const py::list& l, size_t i) { return py::handle(PyList_GET_ITEM(l.ptr(), i)); }

void check_lengths(const py::list& params, const std::vector<const py::list*>& others, const std::vector<std::string>& what) {
  for (size_t k = 0; k < others.size(); ++k)
    if (others[k]->size() != params.size())
      throw py::value_error(what[k] + ": got " + std::to_string(others[k]->size()) + " arrays for " +
                            std::to_string(params.size()) + " params");
}

// (rows, cols) of a param as Muon sees it: (shape[0], the rest) for 2 or more dimensions; cols 0 for a vector.
std::pair<int64_t, int64_t> muon_shape(const py::array& p) {
  if (p.ndim() < 2) return {p.size(), 0};
  return {p.shape(0), p.shape(0) ? p.size() / p.shape(0) : 0};
}

template <class T>
MuonTensor<T> muon_ptrs(TensorArrays& a) {
  const auto [rows, cols] = muon_shape(a.param);
  return {static_cast<T*>(a.param.mutable_data()), static_cast<const T*>(a.grad.data()),
          static_cast<T*>(a.states[0].mutable_data()), cols ? nullptr : static_cast<T*>(a.states[1].mutable_data()),
          rows, cols};
}

void muon_step(const py::list& params, const py::list& grads, const py::list& momentum_buffer,
               const py::list& exp_avg_sq, const py::list& names, int64_t step, const MuonHyper& h, bool check_only) {
  check_lengths(params, {&grads, &momentum_buffer, &exp_avg_sq, &names},
                {"grads", "state 'momentum_buffer'", "state 'exp_avg_sq'", "names"});
  if (step < 1) throw py::value_error("step: must be >= 1");
  std::vector<MuonTensor<float>> f32;
  std::vector<MuonTensor<double>> f64;
  std::vector<TensorArrays> keep;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string name = py::str(item(names, i));
    if (!py::isinstance<py::array>(item(params, i)))
      throw py::type_error("param '" + name + "': expected a numpy.ndarray, got " + type_name(item(params, i)));
    const auto p = py::reinterpret_borrow<py::array>(item(params, i));
    const bool vector = p.ndim() < 2;
    keep.push_back(check_tensor(item(params, i), item(grads, i), {item(momentum_buffer, i), item(exp_avg_sq, i)},
                                {p.size(), vector ? p.size() : 0}, {"momentum_buffer", "exp_avg_sq"}, name));
  }
  if (check_only) return;
  for (TensorArrays& a : keep) {
    if (a.param.size() == 0) continue;
    if (a.f32) f32.push_back(muon_ptrs<float>(a));
    else f64.push_back(muon_ptrs<double>(a));
  }
  py::gil_scoped_release release;
  if (!f32.empty()) fastopt::muon_step(f32, h, step);
  if (!f64.empty()) fastopt::muon_step(f64, h, step);
}

// (batch, rows, cols) of a param of 2 or more dimensions (only: a 0-d array has no shape to index): its last two
// dimensions and the product of the others.
std::tuple<int64_t, int64_t, int64_t> factored_shape(const py::array& p) {
  int64_t batch = 1;
  for (py::ssize_t d = 0; d + 2 < p.ndim(); ++d) batch *= p.shape(d);
  return {batch, p.shape(p.ndim() - 2), p.shape(p.ndim() - 1)};
}

template <class T>
AdafactorTensor<T> adafactor_ptrs(TensorArrays& a) {
  const py::array& p = a.param;
  T* param = static_cast<T*>(a.param.mutable_data());
  const T* grad = static_cast<const T*>(a.grad.data());
  if (p.ndim() < 2) return {param, grad, static_cast<T*>(a.states[0].mutable_data()), nullptr, 1, 1, p.size()};
  const auto [batch, rows, cols] = factored_shape(p);
  return {param, grad, static_cast<T*>(a.states[0].mutable_data()), static_cast<T*>(a.states[1].mutable_data()), batch,
          rows, cols};
}

void adafactor_step(const py::list& params, const py::list& grads, const py::list& row_var, const py::list& col_var,
                    const py::list& names, int64_t step, const AdafactorHyper& h, bool check_only) {
  check_lengths(params, {&grads, &row_var, &col_var, &names}, {"grads", "state 'row_var'", "state 'col_var'", "names"});
  if (step < 1) throw py::value_error("step: must be >= 1");
  std::vector<TensorArrays> keep;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string name = py::str(item(names, i));
    if (!py::isinstance<py::array>(item(params, i)))
      throw py::type_error("param '" + name + "': expected a numpy.ndarray, got " + type_name(item(params, i)));
    const auto p = py::reinterpret_borrow<py::array>(item(params, i));
    std::vector<int64_t> sizes{p.size(), 0};  // a vector's (or scalar's) second moment, and no column factor
    if (p.ndim() >= 2) {
      const auto [batch, rows, cols] = factored_shape(p);
      sizes = {batch * rows, batch * cols};
    }
    keep.push_back(check_tensor(item(params, i), item(grads, i), {item(row_var, i), item(col_var, i)}, sizes,
                                {"row_var", "col_var"}, name));
  }
  if (check_only) return;
  std::vector<AdafactorTensor<float>> f32;
  std::vector<AdafactorTensor<double>> f64;
  for (TensorArrays& a : keep) {
    if (a.f32) f32.push_back(adafactor_ptrs<float>(a));
    else f64.push_back(adafactor_ptrs<double>(a));
  }
  py::gil_scoped_release release;
  if (!f32.empty()) fastopt::adafactor_step(f32, h, step);
  if (!f64.empty()) fastopt::adafactor_step(f64, h, step);
}

}  // namespace

void register_matrix_optim(py::module_& root) {
  py::module_ m = root.def_submodule("matrix_optim", "Muon and Adafactor: one native call per param group");
  m.def("muon_step",
        [](const py::list& params, const py::list& grads, const py::list& momentum_buffer, const py::list& exp_avg_sq,
           const py::list& names, int64_t step, double lr, double weight_decay, double momentum, bool nesterov,
           std::tuple<double, double, double> ns_coefficients, double eps, int64_t ns_steps, bool match_rms_adamw,
           double adamw_lr, std::pair<double, double> adamw_betas, double adamw_eps, double adamw_weight_decay,
           double grad_scale, double grad_limit, bool check_only) {
          if (ns_steps < 0) throw py::value_error("ns_steps: must be >= 0");
          MuonHyper h{lr, weight_decay, momentum, nesterov, match_rms_adamw,
                      {std::get<0>(ns_coefficients), std::get<1>(ns_coefficients), std::get<2>(ns_coefficients), eps,
                       ns_steps},
                      adamw_lr, adamw_betas.first, adamw_betas.second, adamw_eps, adamw_weight_decay, grad_scale,
                      grad_limit};
          muon_step(params, grads, momentum_buffer, exp_avg_sq, names, step, h, check_only);
        },
        py::arg("params"), py::arg("grads"), py::arg("momentum_buffer"), py::arg("exp_avg_sq"), py::arg("names"),
        py::arg("step"), py::kw_only(), py::arg("lr"), py::arg("weight_decay"), py::arg("momentum"),
        py::arg("nesterov"), py::arg("ns_coefficients"), py::arg("eps"), py::arg("ns_steps"),
        py::arg("match_rms_adamw"), py::arg("adamw_lr"), py::arg("adamw_betas"), py::arg("adamw_eps"),
        py::arg("adamw_weight_decay"), py::arg("grad_scale") = 1.0, py::arg("grad_limit") = INFINITY,
        py::arg("check_only") = false,
        "One Muon step over a param group (matrices: Newton-Schulz through BLAS; vectors: AdamW), in place.");
  m.def("adafactor_step",
        [](const py::list& params, const py::list& grads, const py::list& row_var, const py::list& col_var,
           const py::list& names, int64_t step, double lr, double beta2_decay, double eps1, double eps2, double d,
           double weight_decay, bool maximize, double grad_scale, double grad_limit, bool check_only) {
          AdafactorHyper h{lr, beta2_decay, eps1, eps2, d, weight_decay, maximize, grad_scale, grad_limit};
          adafactor_step(params, grads, row_var, col_var, names, step, h, check_only);
        },
        py::arg("params"), py::arg("grads"), py::arg("row_var"), py::arg("col_var"), py::arg("names"), py::arg("step"),
        py::kw_only(), py::arg("lr"), py::arg("beta2_decay"), py::arg("eps1"), py::arg("eps2"), py::arg("d"),
        py::arg("weight_decay"), py::arg("maximize"), py::arg("grad_scale") = 1.0, py::arg("grad_limit") = INFINITY,
        py::arg("check_only") = false,
        "One Adafactor step over a param group (factored second moment for matrices), in place.");
  m.def("newton_schulz",
        [](const py::array_t<double, py::array::c_style | py::array::forcecast>& g, double a, double b, double c,
           double eps, int64_t steps) {
          if (g.ndim() != 2) throw py::value_error("g: expected a matrix, got " + std::to_string(g.ndim()) + " dimensions");
          if (steps < 0) throw py::value_error("steps: must be >= 0");
          py::array_t<double> out({g.shape(0), g.shape(1)});
          NewtonSchulzWork<double> w;
          w.fit(g.shape(0), g.shape(1));
          const double* src = g.data();
          double* dst = out.mutable_data();
          {
            py::gil_scoped_release release;
            newton_schulz(src, g.shape(0), g.shape(1), {a, b, c, eps, steps}, w, dst, num_threads());
          }
          return out;
        },
        py::arg("g"), py::arg("a"), py::arg("b"), py::arg("c"), py::arg("eps"), py::arg("steps"),
        "Muon's Newton-Schulz iteration on a float64 matrix (a copy): an approximate polar factor.");
}
