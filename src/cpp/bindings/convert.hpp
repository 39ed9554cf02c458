// What every binding file shares: names of shapes, dtypes and types for error messages, and the
// conversion of a Python param group's hyperparameters into the Hyper record a rule reads.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "common/hyper.hpp"
#include "common/spec.hpp"

namespace fastopt::bindings {

namespace py = pybind11;

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

inline std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

// A real number (not a bool, which Python counts as one), as a double; TypeError naming `what` otherwise.
inline double real_value(py::handle v, const std::string& what) {
  if (PyBool_Check(v.ptr()) || !PyNumber_Check(v.ptr()) || PyComplex_Check(v.ptr()))
    throw py::type_error(what + ": expected a real number, got " + type_name(v) + " " + py::repr(v).cast<std::string>());
  return py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
}

// The hyperparameters `spec` reads, taken by name from `group` (a param group's dict: other keys, such
// as "params" or a schedule's "initial_lr", are ignored), plus the carried values from `carry`.
inline Hyper hyper_from_group(const Spec& spec, const py::dict& group, const py::dict& carry) {
  Hyper h;
  for (const HyperKey& key : spec.hyper) {
    const py::str name(key.name);
    if (!group.contains(name))
      throw py::value_error(spec.name + ": the param group has no hyperparameter '" + key.name + "'");
    const py::handle v = group[name];
    const std::string what = spec.name + " hyperparameter '" + key.name + "'";
    switch (key.kind) {
      case HyperKey::Kind::real: h.set(key.name, real_value(v, what)); break;
      case HyperKey::Kind::flag: h.set(key.name, py::bool_(py::reinterpret_borrow<py::object>(v)) ? 1.0 : 0.0); break;
      case HyperKey::Kind::pair:
      case HyperKey::Kind::triple: {
        const std::vector<std::string> parts = key.parts();
        const char* expected = parts.size() == 2 ? ": expected a pair of real numbers" : ": expected a triple of real numbers";
        if (!py::isinstance<py::sequence>(v) || py::len(v) != parts.size()) throw py::type_error(what + expected);
        const auto items = py::reinterpret_borrow<py::sequence>(v);
        for (size_t i = 0; i < parts.size(); ++i) h.set(parts[i], real_value(items[i], what));
        break;
      }
    }
  }
  for (const CarryKey& key : spec.carry) {
    const py::str name(key.name);
    if (!carry.contains(name)) throw py::value_error(spec.name + ": carry has no value '" + key.name + "'");
    h.set(key.name, real_value(carry[name], spec.name + " carried value '" + key.name + "'"));
  }
  return h;
}

}  // namespace fastopt::bindings
