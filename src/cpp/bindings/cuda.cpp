// fastopt._cuda, built only with FASTOPT_CUDA=ON: the optimizer kernels over CUDA arrays (anything with
// __cuda_array_interface__: CuPy arrays, torch CUDA tensors, Numba device arrays).
//
// A Group holds one param group's params and state arrays, validated once when it is made (dtype,
// C-contiguity, writeability, sizes, one GPU for all, no shared memory); a step validates only the grads
// (they change every step), then runs one launch per dtype.  Every check comes before any write.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bindings/convert.hpp"
#include "cuda/device_tensors.hpp"
#include "optim/all.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;
using fastopt::cuda::DeviceTensors;

namespace {

// What a step needs of one CUDA array, read from its __cuda_array_interface__.
struct DeviceArray {
  uintptr_t data = 0;
  int64_t size = 0;
  int itemsize = 0;  // 4 or 8 for float32 / float64, else 0
  std::string typestr;
  std::vector<int64_t> shape;
  bool contiguous = true, readonly = false;
  int device = -1;  // -1: empty (no memory, fits any device)

  bool overlaps(const DeviceArray& o) const {
    return size > 0 && o.size > 0 && data < o.data + o.size * o.itemsize && o.data < data + size * itemsize;
  }
  std::string shape_text() const {
    std::string s = "(";
    for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }
};

std::string qualified_type(py::handle h) {
  const py::handle t = py::type::of(h);
  return py::str(t.attr("__module__")).cast<std::string>() + "." + py::str(t.attr("__name__")).cast<std::string>();
}

py::object interface_of(py::handle obj, const std::string& what) {
  if (PyObject_HasAttrString(py::type::of(obj).ptr(), "__cuda_array_interface__")) {
    try {
      return obj.attr("__cuda_array_interface__");
    } catch (py::error_already_set& e) {
      // torch refuses the interface of a tensor that requires grad; its detached view shares the memory.
      if (!e.matches(PyExc_RuntimeError) || !py::hasattr(obj, "detach")) throw;
      return obj.attr("detach")().attr("__cuda_array_interface__");
    }
  }
  throw py::type_error(what + ": expected a CUDA array (CuPy array, torch CUDA tensor, anything with "
                       "__cuda_array_interface__), got " + qualified_type(obj) +
                       (py::hasattr(obj, "__array_interface__") ? " (host memory: a param group's arrays must all "
                                                                   "be on one GPU or all on the host)" : ""));
}

DeviceArray describe(py::handle obj, const std::string& what) {
  const py::dict cai = interface_of(obj, what);
  DeviceArray a;
  a.typestr = py::str(cai["typestr"]).cast<std::string>();
  if (a.typestr == "<f4") a.itemsize = 4;
  else if (a.typestr == "<f8") a.itemsize = 8;
  const py::tuple data = cai["data"];
  a.data = data[0].cast<uintptr_t>();
  a.readonly = data[1].cast<bool>();
  a.size = 1;
  for (py::handle d : py::tuple(cai["shape"])) {
    a.shape.push_back(d.cast<int64_t>());
    a.size *= a.shape.back();
  }
  if (cai.contains("mask") && !cai["mask"].is_none())
    throw py::type_error(what + ": masked CUDA arrays are not supported (the kernels would ignore the mask)");
  if (cai.contains("strides") && !cai["strides"].is_none() && a.size > 0) {  // C order, size-1 axes aside
    const py::tuple strides = cai["strides"];
    int64_t expected = a.itemsize ? a.itemsize : 1;
    for (size_t d = a.shape.size(); d-- > 0;) {
      if (a.shape[d] != 1 && strides[d].cast<int64_t>() != expected) a.contiguous = false;
      expected *= a.shape[d];
    }
  }
  if (a.size > 0) {
    a.device = cuda::device_of(reinterpret_cast<const void*>(a.data));
    if (a.device < 0)
      throw py::value_error(what + ": its __cuda_array_interface__ points to host memory; pass a GPU array");
  }
  return a;
}

// The checks a param, and a state array or grad against its param, must pass.
void check_param(const DeviceArray& p, const std::string& what) {
  if (p.itemsize == 0)
    throw py::type_error(what + ": unsupported dtype '" + p.typestr + "' (float32 or float64 expected)");
  if (!p.contiguous) throw py::value_error(what + ": must be C-contiguous (it is updated in place)");
  if (p.readonly) throw py::value_error(what + ": array is read-only");
}

void check_like(const DeviceArray& a, const DeviceArray& p, const std::string& what, bool writes) {
  if (a.typestr != p.typestr)
    throw py::type_error(what + ": dtype '" + a.typestr + "' does not match the param's dtype '" + p.typestr + "'");
  if (a.shape != p.shape)
    throw py::value_error(what + ": shape " + a.shape_text() + " does not match the param's shape " + p.shape_text());
  if (!a.contiguous) throw py::value_error(what + ": must be C-contiguous");
  if (writes && a.readonly) throw py::value_error(what + ": array is read-only");
  if (a.overlaps(p)) throw py::value_error(what + ": shares memory with the param itself");
}

struct Optimizer {
  const Spec* spec;
  Carry (*carry)(const Hyper&, int64_t);
};

// Opt's Spec and carry, or a clear error for an optimizer with a host step only (a reduction pass).
template <class Opt>
Optimizer device_optimizer() {
  if constexpr (cuda::RunsOnDevice<Opt, float>::value) return Optimizer{&Opt::spec(), &Opt::carry};
  else throw py::value_error(std::string("the optimizer '") + Opt::name +
                             "' has no CUDA kernel (it reduces over each tensor or the group before updating; CPU only)");
}

// The optimizer called `name`, by walking the type list (no CPU kernel is instantiated here).
Optimizer find_optimizer(const std::string& name) {
  std::optional<Optimizer> out;
  std::apply([&](auto... opt) { ((name == decltype(opt)::name ? (void)(out = device_optimizer<decltype(opt)>()) : void()), ...); },
             AllOptimizers{});
  if (!out) throw py::value_error("unknown optimizer kernel '" + name + "'");
  return *out;
}

int64_t step_count(py::handle obj) {
  if (PyBool_Check(obj.ptr()) || !PyLong_Check(obj.ptr())) throw py::type_error("step: expected an int, got " + type_name(obj));
  const long long v = obj.cast<long long>();
  if (v < 1) throw py::value_error("step: must be >= 1");
  return v;
}

class Group {
 public:
  // params: the group's arrays; states: one list per existing state slot, aligned with params.
  Group(const std::string& name, const py::list& params, const std::vector<py::list>& states, const py::list& names)
      : opt_(find_optimizer(name)), name_(name) {
    const size_t n = params.size();
    if (names.size() != n) throw py::value_error("names: does not match the params");
    if (states.size() > static_cast<size_t>(kMaxStates)) throw py::value_error("too many state slots");
    for (const py::list& slot : states)
      if (slot.size() != n) throw py::value_error(name + ": a state slot does not have one array per param");
    std::vector<std::pair<DeviceArray, std::string>> spans;
    for (size_t i = 0; i < n; ++i) {
      const std::string label = "param '" + py::str(names[i]).cast<std::string>() + "'";
      DeviceArray p = describe(params[i], label);
      check_param(p, label);
      take_device(p, label);
      TensorPtrs<double> t{};  // addresses only: the dtype picks the list at step time
      t.param = reinterpret_cast<double*>(p.data);
      t.n = p.size;
      for (size_t k = 0; k < states.size(); ++k) {
        const std::string what = "optimizer state for " + label;
        const DeviceArray s = describe(states[k][i], what);
        check_like(s, p, what, true);
        take_device(s, what);
        t.state[k] = reinterpret_cast<double*>(s.data);
      }
      tensors_.push_back(t);
      labels_.push_back(label);
      spans.emplace_back(p, label);
      params_.push_back(std::move(p));
    }
    num_states_ = static_cast<int>(states.size());
    // One sort by address finds any two params sharing memory (the same array twice, or two views of one).
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.first.data < b.first.data; });
    uintptr_t reach = 0;
    std::string reach_label;
    for (const auto& [a, label] : spans) {
      if (a.size == 0) continue;
      if (a.data < reach)
        throw py::value_error(label + ": shares memory with " + reach_label +
                              " (every param is updated in place, so each must be its own array)");
      if (a.data + a.size * a.itemsize > reach) reach = a.data + a.size * a.itemsize, reach_label = label;
    }
    if (device_ < 0) device_ = 0;
  }

  int device() const { return device_; }

  // Validates the grads (None for a rule that reads none); returns their addresses.
  std::vector<uintptr_t> check(const py::object& grads) const {
    std::vector<uintptr_t> out(params_.size(), 0);
    if (opt_.spec->reads_grad == grads.is_none())
      throw py::value_error(name_ + (opt_.spec->reads_grad ? ": needs grads" : ": reads no grads (pass None)"));
    if (grads.is_none()) return out;
    if (!py::isinstance<py::list>(grads)) throw py::type_error("grads: expected a list of CUDA arrays");
    const py::list list = grads;
    if (list.size() != params_.size())
      throw py::value_error("grads: got " + std::to_string(list.size()) + " arrays for " + std::to_string(params_.size()) +
                            " params");
    for (size_t i = 0; i < params_.size(); ++i) {
      const std::string what = "grad for " + labels_[i];
      const DeviceArray g = describe(list[i], what);
      check_like(g, params_[i], what, false);
      if (g.size > 0 && g.device != device_)
        throw py::value_error(what + ": is on CUDA device " + std::to_string(g.device) + ", the group's params on " +
                              std::to_string(device_));
      for (const double* s : tensors_[i].state)
        if (s && g.size > 0) {
          DeviceArray st = params_[i];
          st.data = reinterpret_cast<uintptr_t>(s);
          if (g.overlaps(st)) throw py::value_error(what + ": shares memory with the optimizer state");
        }
      out[i] = g.data;
    }
    return out;
  }

  py::dict step(const py::object& grads, const py::dict& group, const py::dict& carry, py::handle step_obj,
                double grad_scale, double grad_limit) const {
    const int64_t step = step_count(step_obj);
    if (!(grad_scale >= 0.0 && grad_scale < INFINITY)) throw py::value_error("grad_scale: must be finite and >= 0");
    if (!(grad_limit > 0.0)) throw py::value_error("grad_limit: must be > 0 (inf for none)");
    const Hyper hyper = hyper_from_group(*opt_.spec, group, carry);
    if (opt_.spec->num_states(hyper) != num_states_)
      throw py::value_error(name_ + ": the group's hyperparameters need " + std::to_string(opt_.spec->num_states(hyper)) +
                            " state slots, this Group holds " + std::to_string(num_states_) + " (make a new Group)");
    const std::vector<uintptr_t> grad_addresses = check(grads);
    auto [f32, f64] = lists(grad_addresses, {grad_scale, grad_limit});
    {
      py::gil_scoped_release release;
      if (!f32.tensors.empty()) cuda::device_step(name_, f32, hyper, step);
      if (!f64.tensors.empty()) cuda::device_step(name_, f64, hyper, step);
    }
    return py::cast(opt_.carry(hyper, step));
  }

  double grad_sum_squares(const py::object& grads) const {
    auto [f32, f64] = lists(check(grads), {});
    py::gil_scoped_release release;
    return cuda::device_sum_of_squares(f32) + cuda::device_sum_of_squares(f64);
  }

 private:
  void take_device(const DeviceArray& a, const std::string& what) {
    if (a.device < 0) return;
    if (device_ < 0) device_ = a.device;
    else if (a.device != device_)
      throw py::value_error(what + ": is on CUDA device " + std::to_string(a.device) + ", other arrays of the group on " +
                            std::to_string(device_) + " (a param group must live on one GPU)");
  }

  // The group's tensors with these grads, split by dtype.
  std::pair<DeviceTensors<float>, DeviceTensors<double>> lists(const std::vector<uintptr_t>& grads,
                                                               GradTransform transform) const {
    DeviceTensors<float> f32{{}, num_states_, device_, transform};
    DeviceTensors<double> f64{{}, num_states_, device_, transform};
    for (size_t i = 0; i < tensors_.size(); ++i) {
      TensorPtrs<double> t = tensors_[i];
      t.grad = reinterpret_cast<const double*>(grads[i]);
      if (params_[i].itemsize == 8) {
        f64.tensors.push_back(t);
      } else {
        TensorPtrs<float> f{};
        f.param = reinterpret_cast<float*>(t.param);
        f.grad = reinterpret_cast<const float*>(t.grad);
        for (int k = 0; k < kMaxStates; ++k) f.state[k] = reinterpret_cast<float*>(t.state[k]);
        f.n = t.n;
        f32.tensors.push_back(f);
      }
    }
    return {std::move(f32), std::move(f64)};
  }

  Optimizer opt_;
  std::string name_;
  std::vector<DeviceArray> params_;
  std::vector<TensorPtrs<double>> tensors_;
  std::vector<std::string> labels_;
  int num_states_ = 0;
  int device_ = -1;
};

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastopt's optimizer kernels on CUDA arrays (built with FASTOPT_CUDA=ON)";
  py::class_<Group>(m, "Group",
                    "A param group on one GPU: its params and state arrays, validated once; step validates the "
                    "grads and runs one fused launch per dtype on the device's default stream.")
      .def(py::init<const std::string&, const py::list&, const std::vector<py::list>&, const py::list&>(),
           py::arg("name"), py::arg("params"), py::arg("states"), py::arg("names"))
      .def_property_readonly("device", &Group::device, "The CUDA device index of the group's arrays.")
      .def("check", [](const Group& g, const py::object& grads) { g.check(grads); }, py::arg("grads"),
           "Validate the grads exactly as step would, without writing anything.")
      .def("step", &Group::step, py::arg("grads"), py::arg("group"), py::arg("carry"), py::arg("step"), py::kw_only(),
           py::arg("grad_scale") = 1.0, py::arg("grad_limit") = INFINITY,
           "One fused in-place step (asynchronous on the device's default stream); returns the carried values. The "
           "rule reads each gradient as clamp(g * grad_scale, -grad_limit, grad_limit).")
      .def("grad_sum_squares", &Group::grad_sum_squares, py::arg("grads"),
           "The sum of squares of every grad element, accumulated in double on the GPU (waits for the result).");
  m.def("device_count", &cuda::device_count, "CUDA devices visible (0 without a GPU or driver).");
  m.def("device_name", &cuda::device_name, py::arg("device"), "The name of CUDA device `device`.");
  m.def("runtime_version", &cuda::runtime_version, "The CUDA runtime version, e.g. 13000 for 13.0.");
  m.attr("architectures") = FASTOPT_CUDA_ARCHITECTURES;
  m.attr("cuda_version") = FASTOPT_CUDA_VERSION;
}
