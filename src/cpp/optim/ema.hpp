// The exponential moving average of weights (fastopt.EMA): shadow <- shadow + (1 - decay) * (param - shadow),
// run by the multi-tensor driver with the shadows as its "params" and the live weights as its "grads".  Not an
// optimizer (all.hpp does not list it): the bindings call it through ema_update.
#pragma once
#include <cstdint>

namespace fastopt {

template <class T>
struct EmaRule {
  T weight;  // 1 - decay
  void operator()(T* __restrict shadow, const T* __restrict param, T* const*, int64_t i) const {
    shadow[i] += weight * (param[i] - shadow[i]);
  }
};

}  // namespace fastopt
