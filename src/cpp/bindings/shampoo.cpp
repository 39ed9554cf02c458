// Python bindings of Shampoo's and SOAP's matrix work (fastopt._core.shampoo, over
// curvature/shampoo_blocks.hpp and curvature/matrix_root.hpp).  Each function takes lists of blocks,
// one NumPy array each, owned by the Python optimizer (fastopt.curvature.shampoo, soap); every array
// is checked (dtype, shape, contiguity, writeability) before anything is written, then the GIL is
// released.  The dtype is the first list's first array's (float32 or float64).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "bindings/array_lists.hpp"
#include "curvature/matrix_root.hpp"
#include "curvature/shampoo_blocks.hpp"

namespace py = pybind11;
using fastopt::bindings::as_const;
using fastopt::bindings::checked;
using fastopt::bindings::checked_list;
using fastopt::curvature::BlockShape;

namespace {

// The (rows, cols) of each 2-D array of `arrays` (checked fully later, by checked_list).
std::vector<BlockShape> shapes_of(const py::sequence& arrays, const std::string& name) {
  std::vector<BlockShape> shapes;
  for (size_t i = 0; i < static_cast<size_t>(py::len(arrays)); ++i) {
    if (!py::isinstance<py::array>(arrays[i]) || py::reinterpret_borrow<py::array>(arrays[i]).ndim() != 2)
      throw py::type_error(name + "[" + std::to_string(i) + "]: expected a 2-D float32 or float64 array");
    const auto a = py::reinterpret_borrow<py::array>(arrays[i]);
    shapes.push_back({a.shape(0), a.shape(1)});
  }
  return shapes;
}

std::vector<std::vector<int64_t>> as_lists(const std::vector<BlockShape>& shapes, int which) {
  std::vector<std::vector<int64_t>> out;  // which: 0 (m, n), 1 (m, m), 2 (n, n), 3 (n,)
  for (const BlockShape& s : shapes) {
    if (which == 0) out.push_back({s.rows, s.cols});
    if (which == 1) out.push_back({s.rows, s.rows});
    if (which == 2) out.push_back({s.cols, s.cols});
    if (which == 3) out.push_back({s.cols});
  }
  return out;
}

// Square matrices: their sizes, after checking each is square.
std::vector<int64_t> square_sizes(const py::sequence& mats, const std::string& name) {
  std::vector<int64_t> sizes;
  const auto shapes = shapes_of(mats, name);
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].rows != shapes[i].cols)
      throw py::value_error(name + "[" + std::to_string(i) + "]: expected a square matrix");
    sizes.push_back(shapes[i].rows);
  }
  return sizes;
}

// fn.template operator()<T>() with T the dtype of arrays[0].
template <class Fn>
auto by_dtype(const py::sequence& arrays, const std::string& name, const Fn& fn) {
  if (py::len(arrays) == 0 || !py::isinstance<py::array>(arrays[0]))
    throw py::type_error(name + ": expected a non-empty list of float32 or float64 arrays");
  const py::dtype dtype = py::reinterpret_borrow<py::array>(arrays[0]).dtype();
  if (dtype.is(py::dtype::of<float>())) return fn(float{});
  if (dtype.is(py::dtype::of<double>())) return fn(double{});
  throw py::type_error(name + "[0]: expected float32 or float64, got " + std::string(py::str(dtype)));
}

void check_finite(double value, const char* name, bool positive) {
  if (!std::isfinite(value) || value < 0.0 || (positive && value == 0.0))
    throw py::value_error(std::string(name) + ": must be finite and " + (positive ? "> 0" : ">= 0") + ", got " +
                          std::to_string(value));
}

}  // namespace

void register_shampoo(py::module_& root) {
  py::module_ m = root.def_submodule("shampoo", "Shampoo's and SOAP's matrix work over lists of blocks: statistics, "
                                                "inverse roots, eigenbases, two-sided products");
  m.def(
      "update_statistics",
      [](const py::sequence& grads, const py::sequence& left, const py::sequence& right, double alpha, double beta) {
        by_dtype(grads, "grads", [&](auto zero) {
          using T = decltype(zero);
          const auto shapes = shapes_of(grads, "grads");
          const auto g = checked_list<T>(grads, "grads", as_lists(shapes, 0), false);
          const auto l = checked_list<T>(left, "left", as_lists(shapes, 1), true);
          const auto r = checked_list<T>(right, "right", as_lists(shapes, 2), true);
          check_finite(alpha, "alpha", false);
          check_finite(beta, "beta", false);
          py::gil_scoped_release release;
          fastopt::curvature::update_statistics(shapes, as_const(g), l, r, alpha, beta);
        });
      },
      py::arg("grads"), py::arg("left"), py::arg("right"), py::arg("alpha"), py::arg("beta"),
      "left_i <- beta left_i + alpha G_i G_i^T, right_i <- beta right_i + alpha G_i^T G_i (SYRK).");
  m.def(
      "inverse_roots",
      [](const py::sequence& mats, const py::sequence& out, int64_t root, double epsilon, const std::string& method,
         int64_t max_iterations, double tolerance) {
        return by_dtype(mats, "mats", [&](auto zero) {
          using T = decltype(zero);
          const auto sizes = square_sizes(mats, "mats");
          std::vector<std::vector<int64_t>> squares;
          for (int64_t n : sizes) squares.push_back({n, n});
          const auto a = checked_list<T>(mats, "mats", squares, false);
          const auto o = checked_list<T>(out, "out", squares, true);
          fastopt::curvature::RootOptions options;
          if (method == "eigen") options.method = fastopt::curvature::RootMethod::eigen;
          else if (method == "newton") options.method = fastopt::curvature::RootMethod::newton;
          else throw py::value_error("method: expected 'eigen' or 'newton', got '" + method + "'");
          if (root < 1) throw py::value_error("root: must be >= 1, got " + std::to_string(root));
          if (max_iterations < 1) throw py::value_error("max_iterations: must be >= 1");
          check_finite(epsilon, "epsilon", false);
          check_finite(tolerance, "tolerance", true);
          options.root = root;
          options.epsilon = epsilon;
          options.max_iterations = max_iterations;
          options.tolerance = tolerance;
          std::vector<fastopt::curvature::RootReport> reports;
          {
            py::gil_scoped_release release;
            fastopt::curvature::inverse_roots(as_const(a), o, sizes, options, reports);
          }
          std::vector<std::tuple<bool, int64_t, double, bool>> out_reports;
          for (const auto& r : reports) out_reports.emplace_back(r.ok, r.iterations, r.residual, r.fell_back);
          return out_reports;
        });
      },
      py::arg("mats"), py::arg("out"), py::arg("root"), py::arg("epsilon"), py::arg("method"),
      py::arg("max_iterations") = 100, py::arg("tolerance") = 1e-10,
      "out_i <- (mats_i + epsilon I)^(-1/root) by 'eigen' (syevd) or 'newton' (coupled Newton), in double; "
      "returns (ok, iterations, residual, fell_back) per matrix: newton's iterations and final max |M - I|, and "
      "whether it fell back to eigen (diverged or stalled); out_i untouched where not ok (a non-finite input, "
      "syevd not converging, or a non-finite result).");
  m.def(
      "sandwich",
      [](const py::sequence& a, const py::sequence& grads, const py::sequence& b, const py::sequence& out,
         bool transpose_a, bool transpose_b) {
        by_dtype(grads, "grads", [&](auto zero) {
          using T = decltype(zero);
          const auto shapes = shapes_of(grads, "grads");
          const auto g = checked_list<T>(grads, "grads", as_lists(shapes, 0), false);
          const auto left = checked_list<T>(a, "a", as_lists(shapes, 1), false);
          const auto right = checked_list<T>(b, "b", as_lists(shapes, 2), false);
          const auto o = checked_list<T>(out, "out", as_lists(shapes, 0), true);
          for (size_t k = 0; k < shapes.size(); ++k) {
            const T* lo = g[k];
            const T* hi = g[k] + shapes[k].rows * shapes[k].cols;
            if (o[k] < hi && lo < o[k] + shapes[k].rows * shapes[k].cols)
              throw py::value_error("out[" + std::to_string(k) + "]: must not share memory with grads");
          }
          py::gil_scoped_release release;
          fastopt::curvature::sandwich(shapes, as_const(left), as_const(g), as_const(right), o, transpose_a,
                                       transpose_b);
        });
      },
      py::arg("a"), py::arg("grads"), py::arg("b"), py::arg("out"), py::arg("transpose_a"), py::arg("transpose_b"),
      "out_i = op(a_i) G_i op(b_i), op the transpose where asked (2 GEMMs a block).");
  m.def(
      "eigenbasis",
      [](const py::sequence& stats, const py::sequence& q) {
        return by_dtype(stats, "stats", [&](auto zero) {
          using T = decltype(zero);
          const auto sizes = square_sizes(stats, "stats");
          std::vector<std::vector<int64_t>> squares;
          for (int64_t n : sizes) squares.push_back({n, n});
          const auto s = checked_list<T>(stats, "stats", squares, false);
          const auto o = checked_list<T>(q, "q", squares, true);
          py::gil_scoped_release release;
          return fastopt::curvature::eigenbasis(as_const(s), o, sizes);
        });
      },
      py::arg("stats"), py::arg("q"),
      "q_i <- the eigenvectors of stats_i in its columns by decreasing eigenvalue (syevd); returns the index of "
      "a matrix whose decomposition failed (its q untouched), or -1.");
  m.def(
      "power_qr_basis",
      [](const py::sequence& stats, const py::sequence& q, const py::sequence& order) {
        return by_dtype(stats, "stats", [&](auto zero) {
          using T = decltype(zero);
          const auto sizes = square_sizes(stats, "stats");
          std::vector<std::vector<int64_t>> squares, lines;
          for (int64_t n : sizes) {
            squares.push_back({n, n});
            lines.push_back({n});
          }
          const auto s = checked_list<T>(stats, "stats", squares, false);
          const auto o = checked_list<T>(q, "q", squares, true);
          const auto perm = checked_list<int64_t>(order, "order", lines, true);
          py::gil_scoped_release release;
          return fastopt::curvature::power_qr_basis(as_const(s), o, perm, sizes);
        });
      },
      py::arg("stats"), py::arg("q"), py::arg("order"),
      "SOAP's refresh: order_i <- the columns of q_i by decreasing q^T S q, then q_i <- Q of qr(S_i q_i[:, order_i]); "
      "returns the index of a block whose QR failed (its q untouched), or -1.");
}
