// fastopt.torch's per-step reads of torch tensors, done in C++: the data addresses of a param group's params and
// of their gradients, and the bump of the params' version counters after a step.  From Python these are
// several torch calls per tensor (p.grad alone makes a Python object for each gradient autograd produced);
// here they are a few loads per tensor.  Built on first use by torch.utils.cpp_extension.load (see native.py);
// without it the adapter reads the same values in Python.
#include <Python.h>

#include <c10/util/Exception.h>
#include <torch/csrc/autograd/python_variable.h>

#include <cstdint>
#include <vector>

namespace {

// A param without a gradient; given to Python as None (0 is a valid address: a zero-size tensor's).
constexpr int64_t kNoGrad = INT64_MIN;

// The tensor behind a list item, or nullptr with a TypeError set.
const at::Tensor* tensor_at(PyObject* list, Py_ssize_t i) {
  PyObject* item = PyList_GET_ITEM(list, i);
  if (!THPVariable_Check(item)) {
    PyErr_Format(PyExc_TypeError, "param %zd: expected a torch.Tensor, got %s", i, Py_TYPE(item)->tp_name);
    return nullptr;
  }
  return &THPVariable_Unpack(item);
}

// A CPU tensor's data address; -1 for tensors whose address the kernels cannot use (another device or
// layout, no storage), so that a plan recorded for them never matches and the Python checks name the problem.
int64_t param_address(const at::Tensor& p) {
  if (!p.defined() || p.layout() != at::kStrided || !p.device().is_cpu() || !p.has_storage()) return -1;
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p.data_ptr()));
}

// kNoGrad for no gradient; the gradient's address when the kernel can read it as is (a dense C-contiguous CPU
// tensor of the param's dtype and size, the param C-contiguous too, no lazy negation or conjugation);
// -1 when the Python path must handle it (copy it into the param's layout, or refuse it with a message).
int64_t grad_address(const at::Tensor& p, const at::Tensor& g) {
  if (!g.defined()) return kNoGrad;
  if (g.layout() != at::kStrided || !g.device().is_cpu() || !g.has_storage() || g.scalar_type() != p.scalar_type() ||
      g.numel() != p.numel() || g.is_neg() || g.is_conj() || !g.is_contiguous() || !p.is_contiguous())
    return -1;
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(g.data_ptr()));
}

PyObject* list_of(const std::vector<int64_t>& values) {
  PyObject* out = PyList_New(static_cast<Py_ssize_t>(values.size()));
  if (out == nullptr) return nullptr;
  for (size_t i = 0; i < values.size(); ++i) {
    PyObject* v = values[i] == kNoGrad ? Py_NewRef(Py_None) : PyLong_FromLongLong(values[i]);
    if (v == nullptr) {
      Py_DECREF(out);
      return nullptr;
    }
    PyList_SET_ITEM(out, static_cast<Py_ssize_t>(i), v);
  }
  return out;
}

// After a step the kernel has streamed every array through the caches, so each tensor's metadata (the Python
// object, its TensorImpl, the autograd record holding the grad, the storages) is cold: a chain of dependent
// misses per tensor.  Fetch the first links a few tensors ahead, so the misses of several tensors overlap.
constexpr Py_ssize_t kAhead = 8;

void prefetch_ahead(PyObject* list, Py_ssize_t i, Py_ssize_t n) {
  if (i + 2 * kAhead < n) __builtin_prefetch(PyList_GET_ITEM(list, i + 2 * kAhead));
  if (i + kAhead < n) {
    PyObject* item = PyList_GET_ITEM(list, i + kAhead);
    if (THPVariable_CheckExact(item)) {
      const c10::TensorImpl* impl = THPVariable_Unpack(item).unsafeGetTensorImpl();
      for (size_t line = 0; line < sizeof(c10::TensorImpl); line += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(impl) + line);
    }
  }
  if (i + kAhead / 2 < n) {
    PyObject* item = PyList_GET_ITEM(list, i + kAhead / 2);
    if (THPVariable_CheckExact(item)) {
      const c10::TensorImpl* impl = THPVariable_Unpack(item).unsafeGetTensorImpl();
      __builtin_prefetch(impl->autograd_meta());
      __builtin_prefetch(impl->unsafe_storage().unsafeGetStorageImpl());
    }
  }
}

// scan(params: list[Tensor]) -> (param addresses, param sizes, grad addresses or None), aligned with params.
PyObject* scan(PyObject*, PyObject* params) {
  if (!PyList_Check(params)) {
    PyErr_SetString(PyExc_TypeError, "scan: params must be a list of tensors");
    return nullptr;
  }
  try {
    const Py_ssize_t n = PyList_GET_SIZE(params);
    std::vector<int64_t> where(static_cast<size_t>(n)), size(static_cast<size_t>(n)), grad(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      prefetch_ahead(params, i, n);
      const at::Tensor* p = tensor_at(params, i);
      if (p == nullptr) return nullptr;
      where[i] = param_address(*p);
      size[i] = p->numel();
      grad[i] = where[i] == -1 ? -1 : grad_address(*p, p->grad());
    }
    PyObject* a = list_of(where);
    PyObject* s = a == nullptr ? nullptr : list_of(size);
    PyObject* g = s == nullptr ? nullptr : list_of(grad);
    if (g == nullptr) {
      Py_XDECREF(a);
      Py_XDECREF(s);
      return nullptr;
    }
    return Py_BuildValue("(NNN)", a, s, g);  // takes over the three references
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

// bump_versions(params: list[Tensor]): what an in-place torch op does to each, so autograd still detects a
// param changed after it was saved for backward.
PyObject* bump_versions(PyObject*, PyObject* params) {
  if (!PyList_Check(params)) {
    PyErr_SetString(PyExc_TypeError, "bump_versions: params must be a list of tensors");
    return nullptr;
  }
  try {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(params); ++i) {
      const at::Tensor* p = tensor_at(params, i);
      if (p == nullptr) return nullptr;
      p->unsafeGetTensorImpl()->bump_version();
    }
  } catch (const std::exception& e) {  // an inference tensor outside InferenceMode: torch's own message
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"scan", scan, METH_O, "scan(params) -> (param addresses, param sizes, grad addresses or None): -1 where Python must look"},
    {"bump_versions", bump_versions, METH_O, "bump_versions(params): bump each param's version counter"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastopt_torch_addresses", nullptr, -1, methods};

}  // namespace

PyMODINIT_FUNC PyInit_fastopt_torch_addresses() { return PyModule_Create(&module); }
