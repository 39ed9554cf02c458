// Python bindings of the optimizer kernels: each optimizer's Spec as a Python object
// (fastopt._core.optim.spec(name)) whose step validates every array once (GIL held), takes raw
// pointers, then releases the GIL and runs one fused multi-tensor step per dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "common/grad_norm.hpp"
#include "optim/all.hpp"
#include "optim/ema.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;

namespace {

enum class DType { f32, f64 };

// Whether h is a numpy.ma.MaskedArray (asked only of ndarray subclasses, so plain arrays pay one compare).
bool is_masked_array(py::handle h) {
  // Looked up once and kept for the life of the process (a static py::object would outlive the interpreter).
  static PyObject* masked_type = py::object(py::module_::import("numpy.ma").attr("MaskedArray")).release().ptr();
  return PyObject_IsInstance(h.ptr(), masked_type) == 1;
}

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
    masked = Py_TYPE(h.ptr()) != py::detail::npy_api::get().PyArray_Type_ && is_masked_array(h);
  }
  bool masked = false;  // a numpy.ma.MaskedArray, whose mask the kernels would ignore
  bool c_contiguous() const { return flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_; }
  bool writeable() const { return flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_; }
  bool same_shape(const ArrayInfo& o) const { return nd == o.nd && std::equal(dims, dims + nd, o.dims); }
  // For two arrays of one dtype (checked before), so one itemsize serves both.
  bool overlaps(const ArrayInfo& o, int64_t itemsize) const {
    return size > 0 && o.size > 0 && data < o.data + o.size * itemsize && o.data < data + size * itemsize;
  }
  py::array array() const { return py::reinterpret_borrow<py::array>(obj); }  // for error messages
};

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
  for (const ArrayInfo* a : {&param, grad})
    if (a && a->masked)
      throw py::type_error((a == grad ? "grad for param '" : "param '") + name() +
                           "': masked arrays are not supported (the kernels would ignore the mask); pass the plain "
                           "array, e.g. a.filled(0)");
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

// How a step is given its gradients: NumPy arrays (validated here), or the data addresses of buffers the
// caller vouches for (fastopt.torch: torch guarantees a grad's dtype, shape and device equal its param's,
// and the adapter checks it is dense and laid out as the param), which saves making an array per grad.
enum class Grads { arrays, addresses };

// The address in grads[i] (a Python int) as a pointer; no memory behind it is checked but its overlap.
const void* grad_address(py::handle h, py::handle name_h) {
  const unsigned long long v = PyLong_AsUnsignedLongLong(h.ptr());
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error("grad address for param '" + py::str(name_h).cast<std::string>() +
                         "': expected a non-negative int, got " + type_name(h));
  }
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(v));
}

// Validates a whole group (every check before any write) and takes its raw pointers.
// grads is a list aligned with params (arrays, or addresses when `given` says so), or None for rules
// that read no gradient; slots[k][i] is the k-th existing state slot of param i.
GroupPtrs collect(const py::list& params, const py::object& grads, const std::vector<py::list>& slots,
                  const py::list& names, Grads given = Grads::arrays) {
  const size_t n = params.size(), n_states = slots.size();
  if (n_states > static_cast<size_t>(kMaxStates)) throw py::value_error("too many state slots");
  if (names.size() != n) throw py::value_error("names: does not match the params");
  const bool has_grads = !grads.is_none();
  if (has_grads && !py::isinstance<py::list>(grads))
    throw py::type_error("grads: expected a list of arrays, got " + type_name(grads));
  py::list grad_list = has_grads ? py::reinterpret_borrow<py::list>(grads) : py::list();
  if (has_grads && grad_list.size() != n)
    throw py::value_error("grads: got " + std::to_string(grad_list.size()) + " arrays for " + std::to_string(n) + " params");
  // Borrowed items straight from the lists (which the caller keeps alive): no reference counting.
  auto item = [](const py::list& list, size_t i) { return py::handle(PyList_GET_ITEM(list.ptr(), i)); };
  // Right after a step has streamed the arrays' data through the caches, every array object is a
  // separate trip to memory; asking for the objects of the tensors a little ahead overlaps the trips
  // (headers further ahead than shapes, which are found through the headers).
  auto prefetch = [&](size_t i, auto&& what) {
    what(item(params, i));
    if (has_grads && given == Grads::arrays) what(item(grad_list, i));
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
    if (has_grads && given == Grads::arrays) grad.emplace(item(grad_list, i));
    st.clear();
    for (size_t k = 0; k < n_states; ++k) st.emplace_back(item(slots[k], i));
    ArrayInfo* g = grad ? &*grad : nullptr;
    const DType dtype = check_tensor(param, g, st, item(names, i), dtypes);
    if (has_grads && given == Grads::addresses) {  // the param's own view of the grad's memory: its size and dtype
      ArrayInfo at = param;
      at.data = const_cast<char*>(static_cast<const char*>(grad_address(item(grad_list, i), item(names, i))));
      const int64_t itemsize = dtype == DType::f32 ? 4 : 8;
      if (at.overlaps(param, itemsize))
        throw py::value_error("grad for param '" + py::str(item(names, i)).cast<std::string>() +
                              "': shares memory with the param itself");
      for (const ArrayInfo& s : st)
        if (at.overlaps(s, itemsize))
          throw py::value_error("optimizer state for param '" + py::str(item(names, i)).cast<std::string>() +
                                "' shares memory with the param or grad");
      grad.emplace(at);
      g = &*grad;
    }
    if (dtype == DType::f32)
      out.f32.push_back(pointers<float>(param, g, st));
    else
      out.f64.push_back(pointers<double>(param, g, st));
  }
  return out;
}

// The state slots a step of `spec` needs under hyperparameters h, taken by name from `states`
// (a dict slot name -> list of arrays aligned with the params), in the order the rule indexes them.
std::vector<py::list> slot_lists(const Spec& spec, const Hyper& h, const py::dict& states, size_t n_params) {
  std::vector<py::list> out;
  for (const Slot* slot : spec.active_slots(h)) {
    const py::str name(slot->name);
    if (!states.contains(name)) throw py::value_error(spec.name + ": state slot '" + slot->name + "' is missing");
    const py::handle list = states[name];
    if (!py::isinstance<py::list>(list))
      throw py::type_error(spec.name + ": state slot '" + slot->name + "' is not a list of arrays");
    out.push_back(py::reinterpret_borrow<py::list>(list));
    if (out.back().size() != n_params)
      throw py::value_error(spec.name + ": state slot '" + slot->name + "' has " + std::to_string(out.back().size()) +
                            " arrays for " + std::to_string(n_params) + " params");
  }
  return out;
}

// A step count from Python: an int in [1, 2^63 - 1], checked here so that a huge or wrong value gets
// a short message rather than pybind11's list of every argument.
int64_t step_count(const py::handle& obj) {
  if (PyBool_Check(obj.ptr()) || !PyLong_Check(obj.ptr()))
    throw py::type_error("step: expected an int, got " + type_name(obj));
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
  if (overflow != 0 || v < 1)
    throw py::value_error("step: must be an integer in [1, 2**63 - 1], got " + py::repr(obj).cast<std::string>());
  return v;
}

// Everything a step checks before writing: the hyperparameters, grads given exactly when the rule
// reads them, the state slots by name, and every array.  Returns the arrays' pointers.
GroupPtrs checked_group(const Kernel& kernel, const Hyper& hyper, const py::list& params, const py::object& grads,
                        const py::dict& states, const py::list& names, Grads given = Grads::arrays) {
  if (kernel.spec->reads_grad == grads.is_none())
    throw py::value_error(kernel.spec->name + (kernel.spec->reads_grad ? ": needs grads" : ": reads no grads (pass None)"));
  return collect(params, grads, slot_lists(*kernel.spec, hyper, states, params.size()), names, given);
}

// A group's step of one optimizer, as Python calls it: validates the group before any write, then
// runs the kernel with the GIL released.  Returns the carried values for the next step.
py::dict kernel_step(const Kernel& kernel, const py::list& params, const py::object& grads, const py::dict& states,
                     const py::list& names, const py::dict& group, const py::dict& carry, const py::handle& step_obj,
                     Grads given, double grad_scale, double grad_limit) {
  const int64_t step = step_count(step_obj);
  if (!(grad_scale >= 0.0 && grad_scale < INFINITY)) throw py::value_error("grad_scale: must be finite and >= 0");
  if (!(grad_limit > 0.0)) throw py::value_error("grad_limit: must be > 0 (inf for none)");
  const Hyper hyper = hyper_from_group(*kernel.spec, group, carry);
  const GroupPtrs ptrs = checked_group(kernel, hyper, params, grads, states, names, given);
  Carry next;
  {
    py::gil_scoped_release release;
    const GradTransformScope transform({grad_scale, grad_limit});
    next = kernel.step(ptrs.f32, ptrs.f64, hyper, step);
  }
  return py::cast(next);
}

void kernel_check(const Kernel& kernel, const py::list& params, const py::object& grads, const py::dict& states,
                  const py::list& names, const py::dict& group, const py::dict& carry, Grads given = Grads::arrays) {
  checked_group(kernel, hyper_from_group(*kernel.spec, group, carry), params, grads, states, names, given);
}

// (name, initial value or None for a copy of the param) of each slot that exists for this group.
py::list kernel_slots(const Kernel& kernel, const py::dict& group) {
  py::dict no_carry;
  for (const CarryKey& c : kernel.spec->carry) no_carry[py::str(c.name)] = c.initial;
  const Hyper hyper = hyper_from_group(*kernel.spec, group, no_carry);
  py::list out;
  for (const Slot* slot : kernel.spec->active_slots(hyper)) {
    const std::optional<double> init = kernel.spec->initial_value(*slot, hyper);
    out.append(py::make_tuple(slot->name, init ? py::object(py::float_(*init)) : py::object(py::none())));
  }
  return out;
}

const char* kind_name(HyperKey::Kind kind) {
  switch (kind) {
    case HyperKey::Kind::flag: return "flag";
    case HyperKey::Kind::pair: return "pair";
    case HyperKey::Kind::triple: return "triple";
    default: return "real";
  }
}

// The sum of squares of every element of `arrays` (float32 or float64, C-contiguous, read only), one parallel pass.
double grad_sum_squares(const py::list& arrays) {
  std::vector<ConstSpan<float>> f32;
  std::vector<ConstSpan<double>> f64;
  DtypeFacts dtypes;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const ArrayInfo a(arrays[i]);
    const std::string where = "grads[" + std::to_string(i) + "]";
    if (!a.is_array) throw py::type_error(where + ": expected a numpy.ndarray, got " + type_name(a.obj));
    const int64_t itemsize = dtypes.float_itemsize(a.descr);
    if (itemsize == 0) throw py::type_error(where + ": unsupported dtype " + dtype_str(a.array()) + " (float32 or float64)");
    if (!a.c_contiguous()) throw py::value_error(where + ": must be C-contiguous");
    if (itemsize == 4) f32.push_back({reinterpret_cast<const float*>(a.data), a.size});
    else f64.push_back({reinterpret_cast<const double*>(a.data), a.size});
  }
  py::gil_scoped_release release;
  return sum_of_squares(f32) + sum_of_squares(f64);
}

// shadows[i] <- shadows[i] + weight * (params[i] - shadows[i]) for every i, in one multi-tensor pass; every array
// is checked (as a param and its grad) before any is written.
void ema_update(const py::list& shadows, const py::list& params, double weight, const py::list& names) {
  if (shadows.size() != params.size() || names.size() != params.size())
    throw py::value_error("ema_update: shadows, params and names must have the same length");
  DtypeFacts dtypes;
  std::vector<ArrayInfo> shadow_info, param_info;
  std::vector<DType> kinds;
  for (size_t i = 0; i < params.size(); ++i) {
    shadow_info.emplace_back(shadows[i]);
    param_info.emplace_back(params[i]);
  }
  for (size_t i = 0; i < params.size(); ++i)
    kinds.push_back(check_tensor(shadow_info[i], &param_info[i], {}, names[i], dtypes));
  std::vector<TensorPtrs<float>> f32;
  std::vector<TensorPtrs<double>> f64;
  for (size_t i = 0; i < params.size(); ++i) {
    if (kinds[i] == DType::f32) f32.push_back(pointers<float>(shadow_info[i], &param_info[i], {}));
    else f64.push_back(pointers<double>(shadow_info[i], &param_info[i], {}));
  }
  py::gil_scoped_release release;
  if (!f32.empty()) for_each_element(f32, EmaRule<float>{static_cast<float>(weight)});
  if (!f64.empty()) for_each_element(f64, EmaRule<double>{weight});
}

std::string known_names() {
  std::string out;
  for (const Kernel& k : kernels()) out += (out.empty() ? "" : ", ") + k.spec->name;
  return out;
}

}  // namespace

void register_optim(py::module_& root) {
  py::module_ m = root.def_submodule("optim", "Fused multi-tensor optimizer kernels, one Spec per optimizer");
  py::class_<Kernel>(m, "Spec",
                     "An optimizer as declared in C++: its hyperparameters, state slots and carried values, and "
                     "its fused step over a param group.")
      .def_property_readonly("name", [](const Kernel& k) { return k.spec->name; })
      .def_property_readonly("hyperparameters",
                             [](const Kernel& k) {
                               py::dict d;
                               for (const HyperKey& h : k.spec->hyper) d[py::str(h.name)] = kind_name(h.kind);
                               return d;
                             },
                             "name -> 'real', 'flag' or 'pair', as a param group holds them.")
      .def_property_readonly("slot_names",
                             [](const Kernel& k) {
                               py::list l;
                               for (const Slot& s : k.spec->slots) l.append(s.name);
                               return l;
                             },
                             "Every state slot the optimizer may keep, in the order the rule indexes them.")
      .def_property_readonly("carry",
                             [](const Kernel& k) {
                               py::dict d;
                               for (const CarryKey& c : k.spec->carry) d[py::str(c.name)] = c.initial;
                               return d;
                             },
                             "Carried per-group values -> their value before the first step.")
      .def_property_readonly("reads_grad", [](const Kernel& k) { return k.spec->reads_grad; })
      .def("slots", &kernel_slots, py::arg("group"),
           "[(slot, initial value or None for a copy of the param)] of the slots this group's hyperparameters create.")
      .def("check", [](const Kernel& k, const py::list& params, const py::object& grads, const py::dict& states,
                       const py::list& names, const py::dict& group, const py::dict& carry) {
             kernel_check(k, params, grads, states, names, group, carry);
           }, py::arg("params"), py::arg("grads"), py::arg("states"), py::arg("names"),
           py::arg("group"), py::arg("carry"), "Validate a group exactly as step would, without writing anything.")
      .def("step", [](const Kernel& k, const py::list& params, const py::object& grads, const py::dict& states,
                      const py::list& names, const py::dict& group, const py::dict& carry, const py::handle& step,
                      double grad_scale, double grad_limit) {
             return kernel_step(k, params, grads, states, names, group, carry, step, Grads::arrays, grad_scale,
                                grad_limit);
           }, py::arg("params"), py::arg("grads"), py::arg("states"), py::arg("names"),
           py::arg("group"), py::arg("carry"), py::arg("step"), py::kw_only(), py::arg("grad_scale") = 1.0,
           py::arg("grad_limit") = INFINITY,
           "One fused in-place step over a param group (validated, GIL released, OpenMP over chunks); returns "
           "the carried values for the next step.  The rule reads each gradient as "
           "clamp(g * grad_scale, -grad_limit, grad_limit) (clipping and loss scaling; the grads are not written).")
      .def("check_addresses", [](const Kernel& k, const py::list& params, const py::list& grads,
                                 const py::dict& states, const py::list& names, const py::dict& group,
                                 const py::dict& carry) {
             kernel_check(k, params, grads, states, names, group, carry, Grads::addresses);
           }, py::arg("params"), py::arg("grad_addresses"), py::arg("states"), py::arg("names"), py::arg("group"),
           py::arg("carry"), "check, with the grads given as data addresses (see step_addresses).")
      .def("step_addresses", [](const Kernel& k, const py::list& params, const py::list& grads,
                                const py::dict& states, const py::list& names, const py::dict& group,
                                const py::dict& carry, const py::handle& step, double grad_scale, double grad_limit) {
             return kernel_step(k, params, grads, states, names, group, carry, step, Grads::addresses, grad_scale,
                                grad_limit);
           }, py::arg("params"), py::arg("grad_addresses"), py::arg("states"), py::arg("names"), py::arg("group"),
           py::arg("carry"), py::arg("step"), py::kw_only(), py::arg("grad_scale") = 1.0,
           py::arg("grad_limit") = INFINITY,
           "step, with each grad given as the data address (an int) of a C-contiguous buffer of its param's dtype "
           "and size, which the caller vouches for (fastopt.torch passes tensor.data_ptr()); the params and "
           "state are validated as in step, the grads only for overlap with them.")
      .def("__repr__", [](const Kernel& k) { return "<fastopt._core.optim.Spec '" + k.spec->name + "'>"; });
  m.def("grad_sum_squares", &grad_sum_squares, py::arg("grads"),
        "The sum of squares of every element of a list of float32/float64 arrays, in one parallel pass (NaN or Inf "
        "if any element is): the square of the global gradient norm.");
  m.def("ema_update", &ema_update, py::arg("shadows"), py::arg("params"), py::arg("weight"), py::arg("names"),
        "shadows[i] += weight * (params[i] - shadows[i]) for every array, in one multi-tensor pass (the moving "
        "average of fastopt.EMA, weight = 1 - decay); names name the arrays in errors.");
  m.def("names", [] {
    std::vector<std::string> out;
    for (const Kernel& k : kernels()) out.push_back(k.spec->name);
    return out;
  }, "Names of every optimizer kernel.");
  m.def("spec", [](const std::string& name) {
    const Kernel* k = find_kernel(name);
    if (!k) throw py::value_error("unknown optimizer kernel '" + name + "'; choose from " + known_names());
    return k;
  }, py::arg("name"), py::return_value_policy::reference, "The Spec of the optimizer kernel called name.");
}
