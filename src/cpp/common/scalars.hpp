// Per-step scalars handed from Python to a rule: learning rate, betas, bias corrections, flags.
// They are computed once per step in double on the host, never per element.
#pragma once
#include <map>
#include <stdexcept>
#include <string>

namespace fastopt {

class Scalars {
 public:
  void set(const std::string& key, double value) { values_[key] = value; }
  double operator[](const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw std::invalid_argument("missing per-step scalar '" + key + "'");
    return it->second;
  }
  bool flag(const std::string& key) const { return (*this)[key] != 0.0; }

 private:
  std::map<std::string, double> values_;
};

// Calls f(std::true_type) or f(std::false_type): turns a runtime flag into a compile-time one,
// so a rule's variants are branches of one template rather than copies of its loop.
template <class F>
void with_flag(bool b, F&& f) {
  if (b) f(std::true_type{});
  else f(std::false_type{});
}

}  // namespace fastopt
