// Every elementwise optimizer, as one type list: the bindings and the trajectory loop both walk it,
// so adding an optimizer here makes it available everywhere.
#pragma once
#include <string>
#include <tuple>

#include "optim/adadelta.hpp"
#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/adamax.hpp"
#include "optim/lion.hpp"
#include "optim/lookahead.hpp"
#include "optim/nadam.hpp"
#include "optim/radam.hpp"
#include "optim/rmsprop.hpp"
#include "optim/sgd.hpp"

namespace fastopt {

using AllOptimizers = std::tuple<Sgd, Adagrad, Rmsprop, Adadelta, Adam, Adamax, Nadam, Radam, Lion, Lookahead>;

// Calls f(Opt{}) for every optimizer type.
template <class F>
void for_each_optimizer(F&& f) {
  std::apply([&](auto... opt) { (f(opt), ...); }, AllOptimizers{});
}

// Calls f(Opt{}) for the optimizer whose kernel is called `name`; returns false if there is none.
template <class F>
bool with_optimizer(const std::string& name, F&& f) {
  bool found = false;
  for_each_optimizer([&](auto opt) {
    if (!found && name == decltype(opt)::name) {
      found = true;
      f(opt);
    }
  });
  return found;
}

}  // namespace fastopt
