// Python bindings of the optimizer kernels: validate every array once (GIL held), take raw
// pointers, then release the GIL and run one fused multi-tensor step per dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
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

// What validation needs of one array, read once from its object.  (pybind11's accessors re-derive
// the size and dtype on every call; with 10,000 small tensors that cost more than the update itself.)
struct ArrayInfo {
  py::handle obj;
  bool is_array = false;
  char* data = nullptr;
  int nd = 0;
  const py::ssize_t* dims = nullptr;
  PyObject* descr = nullptr;
  int flags = 0;
  int64_t size = 0;

  explicit ArrayInfo(py::handle h) : obj(h) {
    if (!py::isinstance<py::array>(h)) return;
    const auto* raw = py::detail::array_proxy(h.ptr());
    is_array = true;
    data = raw->data;
    nd = raw->nd;
    dims = raw->dimensions;
    descr = raw->descr;
    flags = raw->flags;
    size = 1;
    for (int d = 0; d < nd; ++d) size *= dims[d];
  }
  bool c_contiguous() const { return flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_; }
  bool writeable() const { return flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_; }
  bool same_shape(const ArrayInfo& o) const { return nd == o.nd && std::equal(dims, dims + nd, o.dims); }
  // For two arrays of one dtype (checked before), so one itemsize serves both.
  bool overlaps(const ArrayInfo& o, int64_t itemsize) const {
    return size > 0 && o.size > 0 && data < o.data + o.size * itemsize && o.data < data + size * itemsize;
  }
  py::array array() const { return py::reinterpret_borrow<py::array>(obj); }  // for error messages
};

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

// The facts about a dtype that validation needs, looked up once per distinct dtype object of a call
// (float32 and float64 arrays share one dtype object each, so that is once or twice per step).
class DtypeFacts {
 public:
  // The itemsize (4 or 8) when the descr is a native float32/float64, else 0.
  int64_t float_itemsize(PyObject* descr) {
    if (descr != last_) {
      const auto dtype = py::reinterpret_borrow<py::dtype>(descr);
      const bool ok = dtype.kind() == 'f' && (dtype.itemsize() == 4 || dtype.itemsize() == 8) && dtype.byteorder() != '>';
      last_ = descr;
      itemsize_ = ok ? dtype.itemsize() : 0;
    }
    return itemsize_;
  }
  static bool equal(PyObject* a, PyObject* b) {
    return a == b || py::reinterpret_borrow<py::dtype>(a).equal(py::reinterpret_borrow<py::dtype>(b));
  }

 private:
  PyObject* last_ = nullptr;
  int64_t itemsize_ = 0;
};

// Checks one tensor's param, grad and states; throws TypeError/ValueError naming it, and on success
// returns the dtype.  Names and messages are formatted only on the error path.
DType check_tensor(const ArrayInfo& param, const ArrayInfo* grad, const std::vector<ArrayInfo>& states,
                   py::handle name_h, DtypeFacts& dtypes) {
  auto name = [&] { return py::str(name_h).cast<std::string>(); };
  if (!param.is_array)
    throw py::type_error("param '" + name() + "': expected a numpy.ndarray, got " + type_name(param.obj));
  const int64_t itemsize = dtypes.float_itemsize(param.descr);
  if (itemsize == 0)
    throw py::type_error("param '" + name() + "': unsupported dtype " + dtype_str(param.array()) +
                         " (native float32 or float64 expected)");
  if (!param.c_contiguous())
    throw py::value_error("param '" + name() + "': must be C-contiguous (updated in place; pass np.ascontiguousarray once and keep it)");
  if (!param.writeable()) throw py::value_error("param '" + name() + "': array is read-only");

  if (grad) {
    if (!grad->is_array)
      throw py::type_error("grad for param '" + name() + "': expected a numpy.ndarray, got " + type_name(grad->obj));
    if (!DtypeFacts::equal(grad->descr, param.descr))
      throw py::type_error("grad for param '" + name() + "': dtype " + dtype_str(grad->array()) +
                           " does not match the param's dtype " + dtype_str(param.array()));
    if (!grad->same_shape(param))
      throw py::value_error("grad for param '" + name() + "': shape " + shape_str(grad->array()) +
                            " does not match the param's shape " + shape_str(param.array()));
    if (!grad->c_contiguous()) throw py::value_error("grad for param '" + name() + "': must be C-contiguous");
    if (grad->overlaps(param, itemsize))
      throw py::value_error("grad for param '" + name() + "': shares memory with the param itself");
  }
  for (const ArrayInfo& st : states) {
    if (!st.is_array || !DtypeFacts::equal(st.descr, param.descr) || st.size != param.size || !st.c_contiguous() ||
        !st.writeable())
      throw py::value_error("optimizer state for param '" + name() + "' does not match the param (dtype " +
                            (st.is_array ? dtype_str(st.array()) : type_name(st.obj)) + ", shape " +
                            (st.is_array ? shape_str(st.array()) : "?") +
                            "); was load_state_dict given another layout?");
    if (st.overlaps(param, itemsize) || (grad && st.overlaps(*grad, itemsize)))
      throw py::value_error("optimizer state for param '" + name() + "' shares memory with the param or grad");
  }
  return itemsize == 4 ? DType::f32 : DType::f64;
}

template <class T>
TensorPtrs<T> pointers(const ArrayInfo& param, const ArrayInfo* grad, const std::vector<ArrayInfo>& states) {
  TensorPtrs<T> t{};
  t.param = reinterpret_cast<T*>(param.data);
  t.grad = grad ? reinterpret_cast<const T*>(grad->data) : nullptr;
  for (size_t k = 0; k < states.size(); ++k) t.state[k] = reinterpret_cast<T*>(states[k].data);
  t.n = param.size;
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
  const bool has_grads = !grads.is_none();
  if (has_grads && !py::isinstance<py::list>(grads))
    throw py::type_error("grads: expected a list of arrays, got " + type_name(grads));
  py::list grad_list = has_grads ? py::reinterpret_borrow<py::list>(grads) : py::list();
  if (has_grads && grad_list.size() != n)
    throw py::value_error("grads: got " + std::to_string(grad_list.size()) + " arrays for " + std::to_string(n) + " params");
  std::vector<py::list> slots;
  for (size_t k = 0; k < n_states; ++k) {
    if (!py::isinstance<py::list>(states[k])) throw py::type_error("state slot " + std::to_string(k) + " is not a list");
    slots.push_back(py::reinterpret_borrow<py::list>(states[k]));
    if (slots[k].size() != n) throw py::value_error("state slot " + std::to_string(k) + " does not match the params");
  }
  // Borrowed items straight from the lists (which the caller keeps alive): no reference counting.
  auto item = [](const py::list& list, size_t i) { return py::handle(PyList_GET_ITEM(list.ptr(), i)); };
  // Right after a step has streamed the arrays' data through the caches, every array object is a
  // separate trip to memory; asking for the objects of the tensors a little ahead overlaps the trips
  // (headers further ahead than shapes, which are found through the headers).
  auto prefetch = [&](size_t i, auto&& what) {
    what(item(params, i));
    if (has_grads) what(item(grad_list, i));
    for (size_t k = 0; k < n_states; ++k) what(item(slots[k], i));
  };
  auto header = [](py::handle h) { __builtin_prefetch(h.ptr()); __builtin_prefetch(reinterpret_cast<char*>(h.ptr()) + 64); };
  auto shape = [](py::handle h) {
    if (py::isinstance<py::array>(h)) __builtin_prefetch(py::detail::array_proxy(h.ptr())->dimensions);
  };
  constexpr size_t kHeadersAhead = 16, kShapesAhead = 8;
  GroupPtrs out;
  DtypeFacts dtypes;
  std::vector<ArrayInfo> st;
  for (size_t i = 0; i < n; ++i) {
    if (i + kHeadersAhead < n) prefetch(i + kHeadersAhead, header);
    if (i + kShapesAhead < n) prefetch(i + kShapesAhead, shape);
    ArrayInfo param(item(params, i));
    std::optional<ArrayInfo> grad;
    if (has_grads) grad.emplace(item(grad_list, i));
    st.clear();
    for (size_t k = 0; k < n_states; ++k) st.emplace_back(item(slots[k], i));
    ArrayInfo* g = grad ? &*grad : nullptr;
    if (check_tensor(param, g, st, item(names, i), dtypes) == DType::f32)
      out.f32.push_back(pointers<float>(param, g, st));
    else
      out.f64.push_back(pointers<double>(param, g, st));
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
