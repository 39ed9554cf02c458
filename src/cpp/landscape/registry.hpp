// Test functions by name, with their parameters and the dimensions they accept.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "landscape/nd_functions.hpp"
#include "landscape/plane_functions.hpp"

namespace fastopt::landscape {

using Params = std::map<std::string, double>;

struct FunctionEntry {
  const char* name;
  int64_t min_dim, max_dim;  // both 2 for the plane functions
  Params defaults;       // the parameters it takes and their defaults
  std::function<std::unique_ptr<TestFunction>(int64_t dim, const Params&)> make;
};

template <class F>
std::unique_ptr<TestFunction> make_plane(int64_t, const Params&) {
  return std::make_unique<F>();
}
template <class F>
std::unique_ptr<TestFunction> make_nd(int64_t dim, const Params&) {
  return std::make_unique<F>(dim);
}

inline const std::vector<FunctionEntry>& function_entries() {
  // The n-dimensional functions keep their start and minima as dense points, a few of 128 MiB
  // each at this bound; value and gradient are linear in dim (the Hessian has its own limit).
  constexpr int64_t any = int64_t(1) << 24;
  static const std::vector<FunctionEntry> entries = {
      {"rosenbrock", 2, any, {}, make_nd<Rosenbrock>},
      {"beale", 2, 2, {}, make_plane<Beale>},
      {"himmelblau", 2, 2, {}, make_plane<Himmelblau>},
      {"rastrigin", 1, any, {}, make_nd<Rastrigin>},
      {"ackley", 2, 2, {}, make_plane<Ackley>},
      {"booth", 2, 2, {}, make_plane<Booth>},
      {"goldstein_price", 2, 2, {}, make_plane<GoldsteinPrice>},
      {"six_hump_camel", 2, 2, {}, make_plane<SixHumpCamel>},
      {"styblinski_tang", 1, any, {}, make_nd<StyblinskiTang>},
      {"saddle", 2, 2, {}, make_plane<Saddle>},
      {"monkey_saddle", 2, 2, {}, make_plane<MonkeySaddle>},
      {"quadratic", 1, any, {{"condition", 10.0}},
       [](int64_t n, const Params& p) { return std::unique_ptr<TestFunction>(new Quadratic(n, p.at("condition"))); }},
      {"bowl", 2, 2, {}, make_plane<Bowl>},
      {"extended_rosenbrock", 2, any, {}, make_nd<ExtendedRosenbrock>},
  };
  return entries;
}

inline std::vector<std::string> function_names() {
  std::vector<std::string> names;
  for (const auto& e : function_entries()) names.push_back(e.name);
  return names;
}

inline std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& it : items) s += (s.empty() ? "" : ", ") + it;
  return s;
}

// Builds the function called `name` in `dim` dimensions; `params` override its defaults.
// Throws std::invalid_argument (ValueError in Python) naming the bad name, dimension or parameter.
inline std::unique_ptr<TestFunction> make_function(const std::string& name, int64_t dim, const Params& params) {
  for (const auto& e : function_entries()) {
    if (name != e.name) continue;
    if (dim < e.min_dim || dim > e.max_dim)
      throw std::invalid_argument("dim: " + name +
                                  (e.min_dim == e.max_dim ? " is defined only for dim=2"
                                                          : " needs " + std::to_string(e.min_dim) + " <= dim <= " +
                                                                std::to_string(e.max_dim)) +
                                  ", got " + std::to_string(dim));
    Params merged = e.defaults;
    for (const auto& [key, value] : params) {
      if (!e.defaults.count(key)) {
        std::vector<std::string> accepted;
        for (const auto& d : e.defaults) accepted.push_back(d.first);
        throw std::invalid_argument("unknown parameter '" + key + "' for " + name + " (it takes: " +
                                    (accepted.empty() ? std::string("none") : joined(accepted)) + ")");
      }
      merged[key] = value;
    }
    if (merged.count("condition") && !(merged["condition"] >= 1.0 && std::isfinite(merged["condition"])))
      throw std::invalid_argument("condition: must be a finite number >= 1, got " + std::to_string(merged["condition"]));
    return e.make(dim, merged);
  }
  throw std::invalid_argument("unknown function '" + name + "'; choose from " + joined(function_names()));
}

}  // namespace fastopt::landscape
