// Python bindings of the mixed-precision path (fastopt._core.precision): an optimizer's step over
// bfloat16/float16 params (with an optional float32 master copy) and bfloat16 or 8-bit block-quantised
// state, validated here before any write; and the conversions and 8-bit codec on their own, for the tests
// and for making state.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "bindings/convert.hpp"
#include "optim/mixed_steps.hpp"

namespace py = pybind11;
using namespace fastopt;
using namespace fastopt::bindings;

namespace {

// The element type of a NumPy dtype as the mixed driver stores it; `ok` false for any other dtype.
struct Element {
  bool ok = false;
  Storage type = Storage::f32;
  int64_t itemsize = 0;
  bool is_u8 = false;  // uint8: the codes of an 8-bit state
};

Element element_of(const py::array& a) {
  const py::dtype dt = a.dtype();
  if (dt.byteorder() == '>') return {};
  const char kind = dt.kind();
  const py::ssize_t size = dt.itemsize();
  if (kind == 'f' && size == 4) return {true, Storage::f32, 4};
  if (kind == 'f' && size == 2) return {true, Storage::f16, 2};
  if (kind == 'u' && size == 1) return {true, Storage::q8_signed, 1, true};
  if (size == 2 && py::str(dt.attr("name")).cast<std::string>() == "bfloat16") return {true, Storage::bf16, 2};
  return {};
}

// The byte ranges one tensor's step reads or writes, to refuse any two that overlap.
struct Span {
  const char* begin;
  int64_t bytes;
  std::string what;
};

void check_disjoint(const std::vector<Span>& spans, const std::string& name) {
  for (size_t a = 0; a < spans.size(); ++a)
    for (size_t b = a + 1; b < spans.size(); ++b)
      if (spans[a].bytes > 0 && spans[b].bytes > 0 && spans[a].begin < spans[b].begin + spans[b].bytes &&
          spans[b].begin < spans[a].begin + spans[a].bytes)
        throw py::value_error(spans[b].what + " of param '" + name + "' shares memory with its " + spans[a].what);
}

// `obj` as a C-contiguous (writeable) array, or a TypeError/ValueError naming it.
py::array array_arg(py::handle obj, const std::string& what, bool writeable) {
  if (!py::isinstance<py::array>(obj)) throw py::type_error(what + ": expected a numpy.ndarray, got " + type_name(obj));
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style)) throw py::value_error(what + ": must be C-contiguous");
  if (writeable && !a.writeable()) throw py::value_error(what + ": array is read-only");
  return a;
}

struct MixedArgs {
  const py::list& params;
  const py::object& grads;
  const py::object& masters;
  const py::dict& states;
  const py::dict& absmax;
  const std::set<std::string>& unsigned_slots;
  const py::list& names;
  const py::list& ids;
};

// Validates every array of the group (all checks before any write) and takes its pointers.
MixedTensors collect(const Kernel& kernel, const Hyper& hyper, const MixedArgs& in) {
  const size_t n = in.params.size();
  const Spec& spec = *kernel.spec;
  if (spec.reads_grad == in.grads.is_none())
    throw py::value_error(spec.name + (spec.reads_grad ? ": needs grads" : ": reads no grads (pass None)"));
  auto aligned = [&](const py::object& list, const std::string& what) {
    if (!py::isinstance<py::list>(list)) throw py::type_error(what + ": expected a list, got " + type_name(list));
    if (py::len(list) != n)
      throw py::value_error(what + ": got " + std::to_string(py::len(list)) + " entries for " + std::to_string(n) + " params");
    return py::reinterpret_borrow<py::list>(list);
  };
  aligned(in.names, "names");
  aligned(in.ids, "ids");
  const py::list grads = in.grads.is_none() ? py::list() : aligned(in.grads, "grads");
  const py::list masters = in.masters.is_none() ? py::list() : aligned(in.masters, "masters");
  std::vector<const Slot*> slots = spec.active_slots(hyper);
  std::vector<py::list> state_lists, absmax_lists;
  for (const Slot* slot : slots) {
    const py::str key(slot->name);
    if (!in.states.contains(key)) throw py::value_error(spec.name + ": state slot '" + slot->name + "' is missing");
    state_lists.push_back(aligned(in.states[key], "state '" + slot->name + "'"));
    absmax_lists.push_back(in.absmax.contains(key) ? aligned(in.absmax[key], "absmax of state '" + slot->name + "'")
                                                   : py::list());
  }
  MixedTensors out;
  for (size_t i = 0; i < n; ++i) {
    const std::string name = py::str(in.names[i]);
    MixedTensor t{};
    py::array param = array_arg(in.params[i], "param '" + name + "'", true);
    const Element pe = element_of(param);
    if (!pe.ok || pe.is_u8)
      throw py::type_error("param '" + name + "': unsupported dtype " + dtype_str(param) +
                           " for low-precision steps (float32, bfloat16 or float16)");
    t.param = param.mutable_data();
    t.param_type = pe.type;
    t.n = param.size();
    t.id = in.ids[i].cast<int64_t>();
    std::vector<Span> spans{{static_cast<const char*>(param.data()), t.n * pe.itemsize, "param"}};
    if (!in.grads.is_none()) {
      const py::array grad = array_arg(grads[i], "grad for param '" + name + "'", false);
      const Element ge = element_of(grad);
      if (!ge.ok || !(ge.type == pe.type || ge.type == Storage::f32) || ge.is_u8)
        throw py::type_error("grad for param '" + name + "': dtype " + dtype_str(grad) + " (expected the param's " +
                             dtype_str(param) + " or float32)");
      if (grad.ndim() != param.ndim() || !std::equal(grad.shape(), grad.shape() + grad.ndim(), param.shape()))
        throw py::value_error("grad for param '" + name + "': shape " + shape_str(grad) +
                              " does not match the param's shape " + shape_str(param));
      t.grad = grad.data();
      t.grad_type = ge.type;
      spans.push_back({static_cast<const char*>(grad.data()), t.n * ge.itemsize, "grad"});
    }
    if (!in.masters.is_none()) {
      py::array master = array_arg(masters[i], "master copy of param '" + name + "'", true);
      if (pe.type == Storage::f32 && master.size() != 0)  // a float32 param has none: an empty array holds its place
        throw py::value_error("master copy of param '" + name + "': a float32 param has none (an empty array)");
      const Element me = element_of(master);
      if (!me.ok || me.type != Storage::f32 || me.is_u8 || (pe.type != Storage::f32 && master.size() != t.n))
        throw py::value_error("master copy of param '" + name + "': expected float32 of the param's size, got " +
                              dtype_str(master) + " " + shape_str(master));
      t.master = pe.type == Storage::f32 ? nullptr : static_cast<float*>(master.mutable_data());
      spans.push_back({static_cast<const char*>(master.data()), t.n * 4, "master copy"});
    }
    for (size_t k = 0; k < slots.size(); ++k) {
      const std::string what = "state '" + slots[k]->name + "'";
      py::array st = array_arg(state_lists[k][i], what + " of param '" + name + "'", true);
      const Element se = element_of(st);
      if (!se.ok || se.type == Storage::f16 || st.size() != t.n)
        throw py::value_error(what + " of param '" + name + "' does not match the param (dtype " + dtype_str(st) +
                              ", shape " + shape_str(st) + "; float32, bfloat16 or uint8 codes of its size); "
                              "was load_state_dict given another layout?");
      t.state[k] = st.mutable_data();
      t.state_type[k] = se.type;
      spans.push_back({static_cast<const char*>(st.data()), t.n * se.itemsize, what});
      if (se.is_u8) {
        t.state_type[k] = in.unsigned_slots.count(slots[k]->name) ? Storage::q8_unsigned : Storage::q8_signed;
        if (absmax_lists[k].size() == 0)
          throw py::value_error(what + " of param '" + name + "': 8-bit codes without their absmax");
        py::array am = array_arg(absmax_lists[k][i], "absmax of " + what + " of param '" + name + "'", true);
        const Element ae = element_of(am);
        if (!ae.ok || ae.type != Storage::f32 || ae.is_u8 || am.size() != quant_blocks(t.n))
          throw py::value_error("absmax of " + what + " of param '" + name + "': expected " +
                                std::to_string(quant_blocks(t.n)) + " float32 values (one per block of " +
                                std::to_string(kQuantBlock) + "), got " + dtype_str(am) + " " + shape_str(am));
        t.absmax[k] = static_cast<float*>(am.mutable_data());
        spans.push_back({static_cast<const char*>(am.data()), am.size() * 4, "absmax of " + what});
      }
    }
    check_disjoint(spans, name);
    out.tensors.push_back(t);
  }
  return out;
}

py::dict mixed_step(const Kernel& kernel, const MixedArgs& in, const py::dict& group, const py::dict& carry,
                    int64_t step, double grad_scale, double grad_limit, bool stochastic_rounding, uint64_t seed,
                    bool write) {
  if (step < 1) throw py::value_error("step: must be >= 1");
  if (!(grad_scale >= 0.0 && grad_scale < INFINITY)) throw py::value_error("grad_scale: must be finite and >= 0");
  if (!(grad_limit > 0.0)) throw py::value_error("grad_limit: must be > 0 (inf for none)");
  const MixedStepFn fn = find_mixed_step(kernel.spec->name);
  if (!fn) throw py::value_error(kernel.spec->name + ": has no low-precision step");
  const Hyper hyper = hyper_from_group(*kernel.spec, group, carry);
  MixedTensors tensors = collect(kernel, hyper, in);
  if (!write) return py::dict();
  tensors.stochastic_rounding = stochastic_rounding;
  tensors.seed = seed;
  tensors.step = step;
  {
    py::gil_scoped_release release;
    const GradTransformScope transform({grad_scale, grad_limit});
    fn(tensors, hyper, step);
  }
  return py::cast(kernel.carry(hyper, step));
}

// A float32 1-D array's values through `f` into a new array of Out.
template <class Out, class F>
py::array_t<Out> map_array(const py::array_t<float, py::array::c_style | py::array::forcecast>& x, F&& f) {
  py::array_t<Out> out(x.size());
  f(x.data(), out.mutable_data(), static_cast<int64_t>(x.size()));
  return out;
}

}  // namespace

void register_precision(py::module_& root) {
  py::module_ m = root.def_submodule("precision", "Low-precision params and optimizer state: the mixed step and codecs");
  auto step = [](bool write) {
    return [write](const Kernel& k, const py::list& params, const py::object& grads, const py::object& masters,
                   const py::dict& states, const py::dict& absmax, const std::set<std::string>& unsigned_slots,
                   const py::list& names, const py::list& ids, const py::dict& group, const py::dict& carry,
                   int64_t step, double grad_scale, double grad_limit, bool stochastic_rounding, uint64_t seed) {
      return mixed_step(k, {params, grads, masters, states, absmax, unsigned_slots, names, ids}, group, carry, step,
                        grad_scale, grad_limit, stochastic_rounding, seed, write);
    };
  };
  const char* args_doc =
      " params: float32/bfloat16/float16 arrays; grads: each of its param's dtype or float32 (None for rules that "
      "read none); masters: None or a list of float32 copies (None for a param without one); states: slot -> "
      "arrays (float32, bfloat16, or uint8 codes); absmax: slot -> float32 arrays, one value per block of 256, for "
      "uint8 states; unsigned_slots: the slots quantised with the unsigned map; ids: what stochastic rounding hashes.";
  m.def("step", step(true), py::arg("spec"), py::arg("params"), py::arg("grads"), py::arg("masters"), py::arg("states"),
        py::arg("absmax"), py::arg("unsigned_slots"), py::arg("names"), py::arg("ids"), py::arg("group"),
        py::arg("carry"), py::arg("step"), py::kw_only(), py::arg("grad_scale") = 1.0, py::arg("grad_limit") = INFINITY,
        py::arg("stochastic_rounding") = false, py::arg("seed") = 0,
        (std::string("One fused in-place step of spec's rule over a param group in mixed precision (validated, GIL "
                     "released); returns the carried values.") + args_doc).c_str());
  m.def("check", step(false), py::arg("spec"), py::arg("params"), py::arg("grads"), py::arg("masters"),
        py::arg("states"), py::arg("absmax"), py::arg("unsigned_slots"), py::arg("names"), py::arg("ids"),
        py::arg("group"), py::arg("carry"), py::arg("step"), py::kw_only(), py::arg("grad_scale") = 1.0,
        py::arg("grad_limit") = INFINITY, py::arg("stochastic_rounding") = false, py::arg("seed") = 0,
        "Validate a group exactly as step would, writing nothing (returns an empty dict).");
  m.def("supports", [](const Kernel& k) { return find_mixed_step(k.spec->name) != nullptr; }, py::arg("spec"),
        "Whether spec's optimizer has a mixed-precision step.");
  m.def("bfloat16_bits", [](const py::array_t<float, py::array::c_style | py::array::forcecast>& x, bool portable) {
    return map_array<uint16_t>(x, [&](const float* a, uint16_t* b, int64_t n) {
      portable ? float_to_bf16_n_portable(a, b, n) : float_to_bf16_n(a, b, n);
    });
  }, py::arg("x"), py::arg("portable") = false,
        "The bfloat16 bit patterns (uint16, flattened) of float32 values rounded to nearest even, by this build's "
        "conversion (portable=False) or the portable one.");
  m.def("float16_bits", [](const py::array_t<float, py::array::c_style | py::array::forcecast>& x) {
    return map_array<uint16_t>(x, [](const float* a, uint16_t* b, int64_t n) {
      for (int64_t i = 0; i < n; ++i) b[i] = float_to_f16(a[i]);
    });
  }, py::arg("x"), "The float16 bit patterns (uint16, flattened) of float32 values rounded to nearest even.");
  m.def("dynamic_map", [](bool is_signed) {
    const DynamicMap& map = dynamic_map(is_signed);
    return py::array_t<float>(256, map.value);
  }, py::arg("signed"), "The 256 sorted values of the signed ([-1, 1]) or unsigned ([0, 1]) 8-bit dynamic map.");
  m.def("quantize", [](const py::array_t<float, py::array::c_style | py::array::forcecast>& x, bool is_signed) {
    const int64_t n = x.size();
    py::array_t<uint8_t> codes(n);
    py::array_t<float> absmax(quant_blocks(n));
    const DynamicMap& map = dynamic_map(is_signed);
    for (int64_t b = 0; b < n; b += kQuantBlock)
      quantize_block(map, x.data() + b, codes.mutable_data() + b, absmax.mutable_data() + b / kQuantBlock,
                     n - b < kQuantBlock ? n - b : kQuantBlock);
    return py::make_tuple(codes, absmax);
  }, py::arg("x"), py::arg("signed"),
        "(codes uint8, absmax float32): x (flattened) quantised in blocks of 256 with the dynamic map.");
  m.def("dequantize", [](const py::array_t<uint8_t, py::array::c_style>& codes,
                         const py::array_t<float, py::array::c_style>& absmax, bool is_signed) {
    const int64_t n = codes.size();
    if (absmax.size() != quant_blocks(n))
      throw py::value_error("absmax: expected " + std::to_string(quant_blocks(n)) + " values, got " +
                            std::to_string(absmax.size()));
    py::array_t<float> out(n);
    const DynamicMap& map = dynamic_map(is_signed);
    for (int64_t b = 0; b < n; b += kQuantBlock)
      dequantize_block(map, codes.data() + b, absmax.data()[b / kQuantBlock], out.mutable_data() + b,
                       n - b < kQuantBlock ? n - b : kQuantBlock);
    return out;
  }, py::arg("codes"), py::arg("absmax"), py::arg("signed"), "float32 values of 8-bit codes and their block absmax.");
  m.attr("block_size") = kQuantBlock;
  m.attr("bfloat16_conversion") = bf16_conversion_path();
}
