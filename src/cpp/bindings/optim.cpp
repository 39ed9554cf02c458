// Python bindings of the optimizer kernels: validate every array once (GIL held), take raw
// pointers, then release the GIL and run one fused multi-tensor step per dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "optim/all.hpp"

namespace py = pybind11;
using namespace fastopt;

namespace {

enum class DType { f32, f64 };

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

bool overlaps(const py::array& a, const py::array& b) {
  const char* a0 = static_cast<const char*>(a.data());
  const char* b0 = static_cast<const char*>(b.data());
  return a.nbytes() > 0 && b.nbytes() > 0 && a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}

// Checks one tensor's param, grad and states; throws TypeError/ValueError naming it.
// The name is formatted only on the error path: the happy path costs no string work.
DType check_tensor(py::handle param_h, py::handle grad_h, const std::vector<py::handle>& state_h,
                   py::handle name_h) {
  auto name = [&] { return py::str(name_h).cast<std::string>(); };
  if (!py::isinstance<py::array>(param_h))
    throw py::type_error("param '" + name() + "': expected a numpy.ndarray, got " +
                         std::string(py::str(py::type::of(param_h).attr("__name__"))));
  auto param = py::reinterpret_borrow<py::array>(param_h);
  const py::dtype dtype = param.dtype();
  if (dtype.kind() != 'f' || (dtype.itemsize() != 4 && dtype.itemsize() != 8) || dtype.byteorder() == '>')
    throw py::type_error("param '" + name() + "': unsupported dtype " + dtype_str(param) +
                         " (native float32 or float64 expected)");
  const DType dt = dtype.itemsize() == 4 ? DType::f32 : DType::f64;
  if (!(param.flags() & py::array::c_style))
    throw py::value_error("param '" + name() + "': must be C-contiguous (updated in place; pass np.ascontiguousarray once and keep it)");
  if (!param.writeable()) throw py::value_error("param '" + name() + "': array is read-only");

  if (!grad_h.is_none()) {
    if (!py::isinstance<py::array>(grad_h))
      throw py::type_error("grad for param '" + name() + "': expected a numpy.ndarray, got " +
                           std::string(py::str(py::type::of(grad_h).attr("__name__"))));
    auto grad = py::reinterpret_borrow<py::array>(grad_h);
    if (!grad.dtype().equal(param.dtype()))
      throw py::type_error("grad for param '" + name() + "': dtype " + dtype_str(grad) +
                           " does not match the param's dtype " + dtype_str(param));
    bool same_shape = grad.ndim() == param.ndim();
    for (py::ssize_t d = 0; same_shape && d < grad.ndim(); ++d) same_shape = grad.shape(d) == param.shape(d);
    if (!same_shape)
      throw py::value_error("grad for param '" + name() + "': shape " + shape_str(grad) +
                            " does not match the param's shape " + shape_str(param));
    if (!(grad.flags() & py::array::c_style))
      throw py::value_error("grad for param '" + name() + "': must be C-contiguous");
    if (overlaps(grad, param))
      throw py::value_error("grad for param '" + name() + "': shares memory with the param itself");
  }
  for (const py::handle& h : state_h) {
    auto st = py::reinterpret_borrow<py::array>(h);
    if (!st.dtype().equal(param.dtype()) || st.size() != param.size() || !(st.flags() & py::array::c_style) ||
        !st.writeable())
      throw py::value_error("optimizer state for param '" + name() + "' does not match the param (dtype " +
                            dtype_str(st) + ", shape " + shape_str(st) + "); was load_state_dict given another layout?");
    if (overlaps(st, param) || (!grad_h.is_none() && overlaps(st, py::reinterpret_borrow<py::array>(grad_h))))
      throw py::value_error("optimizer state for param '" + name() + "' shares memory with the param or grad");
  }
  return dt;
}

template <class T>
TensorPtrs<T> pointers(py::handle param, py::handle grad, const std::vector<py::handle>& states) {
  TensorPtrs<T> t{};
  auto p = py::reinterpret_borrow<py::array>(param);
  t.param = static_cast<T*>(p.mutable_data());
  t.grad = grad.is_none() ? nullptr : static_cast<const T*>(py::reinterpret_borrow<py::array>(grad).data());
  for (size_t k = 0; k < states.size(); ++k)
    t.state[k] = static_cast<T*>(py::reinterpret_borrow<py::array>(states[k]).mutable_data());
  t.n = static_cast<int64_t>(p.size());
  return t;
}

struct GroupPtrs {
  std::vector<TensorPtrs<float>> f32;
  std::vector<TensorPtrs<double>> f64;
};

// Validates a whole group (every check before any write) and takes its raw pointers.
// grads is a list aligned with params, or None for rules that read no gradient;
// states[k][i] is state slot k of param i.
GroupPtrs collect(const py::list& params, const py::object& grads, const py::list& states, const py::list& names) {
  const size_t n = params.size(), n_states = states.size();
  if (n_states > static_cast<size_t>(kMaxStates)) throw py::value_error("too many state slots");
  if (names.size() != n) throw py::value_error("names: does not match the params");
  py::list grad_list = grads.is_none() ? py::list() : py::reinterpret_borrow<py::list>(grads);
  if (!grads.is_none() && grad_list.size() != n)
    throw py::value_error("grads: got " + std::to_string(grad_list.size()) + " arrays for " + std::to_string(n) + " params");
  std::vector<py::list> slots;
  for (size_t k = 0; k < n_states; ++k) {
    slots.push_back(py::reinterpret_borrow<py::list>(states[k]));
    if (slots[k].size() != n) throw py::value_error("state slot " + std::to_string(k) + " does not match the params");
  }
  GroupPtrs out;
  std::vector<py::handle> st(n_states);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < n_states; ++k) st[k] = slots[k][i];
    py::handle g = grads.is_none() ? py::handle(Py_None) : py::handle(grad_list[i]);
    if (check_tensor(params[i], g, st, names[i]) == DType::f32)
      out.f32.push_back(pointers<float>(params[i], g, st));
    else
      out.f64.push_back(pointers<double>(params[i], g, st));
  }
  return out;
}

// One step of optimizer Opt over a whole param group: one native call, GIL released.
// Returns the per-group values the optimizer carries to the next step (see Carry).
template <class Opt>
py::dict group_step(const py::list& params, const py::object& grads, const py::list& states, const py::list& names,
                    const py::dict& hyper_dict, int64_t step) {
  if (step < 1) throw py::value_error("step: must be >= 1, got " + std::to_string(step));
  Hyper hyper;
  for (auto item : hyper_dict) hyper.set(item.first.cast<std::string>(), item.second.cast<double>());
  if (states.size() != static_cast<size_t>(Opt::num_states(hyper)))
    throw py::value_error(std::string(Opt::name) + ": expected " + std::to_string(Opt::num_states(hyper)) +
                          " state slots, got " + std::to_string(states.size()));
  const GroupPtrs ptrs = collect(params, grads, states, names);
  {
    py::gil_scoped_release release;
    if (!ptrs.f32.empty()) Opt::template step<float>(ptrs.f32, hyper, step);
    if (!ptrs.f64.empty()) Opt::template step<double>(ptrs.f64, hyper, step);
  }
  return py::cast(Opt::carry(hyper, step));
}

template <class Opt>
void def_step(py::module_& m) {
  m.def((std::string(Opt::name) + "_step").c_str(), &group_step<Opt>, py::arg("params"), py::arg("grads"),
        py::arg("states"), py::arg("names"), py::arg("hyper"), py::arg("step"),
        "One fused in-place step over a param group (validated, GIL released, OpenMP over chunks).");
}

}  // namespace

void register_optim(py::module_& root) {
  py::module_ m = root.def_submodule("optim", "Fused multi-tensor optimizer kernels");
  m.def(
      "check",
      [](const py::list& params, const py::object& grads, const py::list& states, const py::list& names) {
        collect(params, grads, states, names);
      },
      py::arg("params"), py::arg("grads"), py::arg("states"), py::arg("names"),
      "Validate a group exactly as a step would, without writing anything.");
  for_each_optimizer([&](auto opt) { def_step<decltype(opt)>(m); });
}
