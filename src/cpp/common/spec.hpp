// What an optimizer declares about itself, once: its name, the hyperparameters it reads, its state
// slots and the scalars it carries between steps.  The bindings hand this record to Python
// (fastopt._core.optim.spec(name)), so the Python class derives its state and kernel arguments from
// it instead of restating them, and the trajectory loop builds its state from the same record.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/hyper.hpp"

namespace fastopt {

// A hyperparameter as a Python param group holds it: a real number, an on/off flag, or a pair or
// triple of reals (betas) that the rule reads under two or three names.
struct HyperKey {
  enum class Kind { real, flag, pair, triple };
  std::string name;
  Kind kind = Kind::real;
  // pair and triple only: the names the rule reads, e.g. "beta1", "beta2" (and "beta3")
  std::string first = {}, second = {}, third = {};
  std::vector<std::string> parts() const {
    if (kind == Kind::pair) return {first, second};
    if (kind == Kind::triple) return {first, second, third};
    return {};
  }
};
constexpr HyperKey::Kind kFlag = HyperKey::Kind::flag;
constexpr HyperKey::Kind kPair = HyperKey::Kind::pair;
constexpr HyperKey::Kind kTriple = HyperKey::Kind::triple;

// A per-element state array, one per param.  It exists when the hyperparameter `when` is nonzero
// (always when `when` is empty) and starts as zeros, as the value of the hyperparameter `init`, or as
// a copy of the param (init == "param").  The rule sees the existing slots in the order declared.
struct Slot {
  std::string name;
  std::string init = {};
  std::string when = {};
};

// A per-group scalar carried from step to step (NAdam's product of momentum coefficients), with its
// value before the first step.
struct CarryKey {
  std::string name;
  double initial;
};

struct Spec {
  std::string name;
  std::vector<HyperKey> hyper;
  std::vector<Slot> slots;
  std::vector<CarryKey> carry = {};
  bool reads_grad = true;  // false for rules that move params without a gradient (Lookahead's sync)

  // The slots that exist under these hyperparameters, in the order the rule indexes them.
  std::vector<const Slot*> active_slots(const Hyper& h) const {
    std::vector<const Slot*> out;
    for (const Slot& s : slots)
      if (s.when.empty() || h.flag(s.when)) out.push_back(&s);
    return out;
  }
  int num_states(const Hyper& h) const { return static_cast<int>(active_slots(h).size()); }
  // The value a slot starts at; none for init == "param" (a copy of the param, made by the caller).
  std::optional<double> initial_value(const Slot& s, const Hyper& h) const {
    if (s.init == "param") return std::nullopt;
    return s.init.empty() ? 0.0 : h[s.init];
  }
};

}  // namespace fastopt
