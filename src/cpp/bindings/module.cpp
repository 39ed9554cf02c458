// The fastopt._core extension module: build information, thread control, and one submodule per area.
#include <pybind11/pybind11.h>

#include <string>

#include "common/bfloat16.hpp"
#include "common/parallel.hpp"

namespace py = pybind11;

void register_optim(py::module_& m);
void register_landscape(py::module_& m);
void register_nn(py::module_& m);
void register_curvature(py::module_& m);
void register_kfac(py::module_& m);
void register_shampoo(py::module_& m);
void register_matrix_optim(py::module_& m);
void register_precision(py::module_& m);

namespace {

std::string simd_level() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE4_2__)
  return "SSE4.2";
#elif defined(__SSE2__)
  return "SSE2";
#elif defined(__ARM_NEON)
  return "NEON";
#else
  return "scalar";
#endif
}

py::dict build_info() {
  py::dict d;
  d["version"] = FASTOPT_VERSION;
  d["compiler"] = FASTOPT_COMPILER;
  d["build_type"] = FASTOPT_BUILD_TYPE;
  d["flags"] = FASTOPT_CXX_FLAGS;
  d["openmp"] = static_cast<bool>(FASTOPT_HAVE_OPENMP);
  d["num_threads"] = fastopt::num_threads();
  d["simd"] = simd_level();
  d["bfloat16_conversion"] = fastopt::bf16_conversion_path();  // "avx512bf16" or "portable"
  d["cuda"] = static_cast<bool>(FASTOPT_HAVE_CUDA);  // fastopt._cuda was built beside this module
  d["cuda_version"] = FASTOPT_HAVE_CUDA ? py::object(py::str(FASTOPT_CUDA_VERSION)) : py::object(py::none());
  d["cuda_architectures"] = FASTOPT_HAVE_CUDA ? py::object(py::str(FASTOPT_CUDA_ARCHITECTURES)) : py::object(py::none());
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastopt native core";
  m.attr("__version__") = FASTOPT_VERSION;
  m.def("build_info", &build_info, "Compiler, flags, OpenMP, thread count, SIMD level and CUDA of this build.");
  m.def("get_num_threads", &fastopt::num_threads, "Threads the kernels use (OMP_NUM_THREADS or set_num_threads).");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
        fastopt::set_num_threads(n);
      },
      py::arg("n"), "Set the number of threads the kernels use.");
  register_optim(m);
  register_landscape(m);
  register_nn(m);
  register_curvature(m);
  register_kfac(m);
  register_shampoo(m);
  register_matrix_optim(m);
  register_precision(m);
}
