// The hyperparameters of one param group, as plain doubles (flags as 0/1), handed from Python to a rule.
// Rules derive their per-step scalars (bias corrections, step sizes) from them once per step, in double,
// never per element; the trajectory loop of fastopt.landscape reuses exactly the same code.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace fastopt {

class Hyper {
 public:
  void set(const std::string& key, double value) { values_[key] = value; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  double operator[](const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw std::invalid_argument("missing hyperparameter '" + key + "'");
    return it->second;
  }
  bool flag(const std::string& key) const { return (*this)[key] != 0.0; }
  double sign() const { return flag("maximize") ? -1.0 : 1.0; }  // maximize: ascend the gradient
  // Weight decay either shrinks the params (decoupled, AdamW) or adds wd*p to the gradient (L2).
  double decoupled_decay() const {
    return flag("decoupled_weight_decay") ? 1.0 - (*this)["lr"] * (*this)["weight_decay"] : 1.0;
  }
  double l2() const { return flag("decoupled_weight_decay") ? 0.0 : (*this)["weight_decay"]; }
  const std::map<std::string, double>& values() const { return values_; }

 private:
  std::map<std::string, double> values_;
};

// Per-group values an optimizer carries from step to step beside its arrays (NAdam's product of
// momentum coefficients); most carry nothing.
using Carry = std::map<std::string, double>;
struct NoCarry {
  static Carry carry(const Hyper&, int64_t) { return {}; }
};

// Calls f(std::true_type) or f(std::false_type): turns a runtime flag into a compile-time one,
// so a rule's variants are branches of one template rather than copies of its loop.
template <class F>
void with_flag(bool b, F&& f) {
  if (b) f(std::true_type{});
  else f(std::false_type{});
}

}  // namespace fastopt
