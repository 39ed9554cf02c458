// Checked views of lists of NumPy arrays, shared by the binding files whose native work takes one
// array per layer or block (kfac.cpp, shampoo.cpp): each array's dtype, shape, C-contiguity and
// writeability are checked, with its name and index in the message, before any pointer is used.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/convert.hpp"

namespace fastopt::bindings {

namespace py = pybind11;

template <class T>
inline std::string dtype_name() {
  return py::str(py::dtype::of<T>());
}

// arrays[i] as a T pointer after checking it is a C-contiguous T array of shape `shape` (writeable if asked).
template <class T>
inline T* checked(const py::handle& item, const std::string& name, const std::vector<int64_t>& shape, bool writable) {
  if (!py::isinstance<py::array_t<T>>(item))
    throw py::type_error(name + ": expected a " + dtype_name<T>() + " array (the model's dtype), got " +
                         (py::isinstance<py::array>(item) ? dtype_str(py::reinterpret_borrow<py::array>(item))
                                                          : type_name(item)));
  auto a = py::reinterpret_borrow<py::array>(item);
  bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; same && d < shape.size(); ++d) same = a.shape(d) == shape[d];
  if (!same) {
    std::string want = "(";
    for (size_t d = 0; d < shape.size(); ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
    throw py::value_error(name + ": expected shape " + want + (shape.size() == 1 ? ",)" : ")") + ", got " +
                          shape_str(a));
  }
  if (!(a.flags() & py::array::c_style)) throw py::value_error(name + ": must be C-contiguous");
  if (writable && !a.writeable()) throw py::value_error(name + ": must be writeable");
  return static_cast<T*>(a.mutable_data());
}

template <class T>
std::vector<T*> checked_list(const py::sequence& arrays, const std::string& name,
                             const std::vector<std::vector<int64_t>>& shapes, bool writable) {
  if (static_cast<size_t>(py::len(arrays)) != shapes.size())
    throw py::value_error(name + ": expected " + std::to_string(shapes.size()) + " arrays (one per layer or block), got " +
                          std::to_string(py::len(arrays)));
  std::vector<T*> out;
  for (size_t i = 0; i < shapes.size(); ++i)
    out.push_back(checked<T>(arrays[i], name + "[" + std::to_string(i) + "]", shapes[i], writable));
  return out;
}

template <class T>
std::vector<const T*> as_const(const std::vector<T*>& v) {
  return std::vector<const T*>(v.begin(), v.end());
}

}  // namespace fastopt::bindings
