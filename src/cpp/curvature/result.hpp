// How a method run ends, what it returns, and how a caller watches it (path recording, callbacks).
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curvature/objective.hpp"
#include "curvature/vector_ops.hpp"

namespace fastopt::curvature {

enum class Status : int {
  converged = 0,           // |g|_inf <= gtol (or the least-squares / trust-region analogue)
  max_iter = 1,            // the iteration budget ran out
  line_search_failed = 2,  // no step along d decreased f (precision loss, or a wrong gradient)
  nonfinite = 3,           // f or g was NaN/Inf where the method could not back off from it
  small_change = 4,        // the step or the decrease of f fell below its tolerance
  max_eval = 5,            // the evaluation budget ran out
  stopped = 6,             // the callback asked to stop
};

inline bool successful(Status s) { return s == Status::converged || s == Status::small_change; }

// One accepted iterate, as an Observer sees it.
struct Iterate {
  int64_t iteration;  // 1, 2, ... within the run
  const double* x;
  double f;
  const double* g;    // null for methods that track no gradient
  int64_t n;
  int64_t evaluations;  // nfev of the objective so far
};

// Called after every iteration; returns true to stop the run (Status::stopped).
using Observer = std::function<bool(const Iterate&)>;

struct Result {
  std::vector<double> x, g;
  double f = 0;
  int64_t nit = 0, nfev = 0, njev = 0, nhev = 0;
  Status status = Status::max_iter;
  std::string message;
  std::vector<int64_t> weak_steps;  // see RunResult in descent.hpp
};

// Records x_0, x_1, ... (rows of n), their values, the evaluations spent when each was reached, and
// the gradient's norm |g|_2 there (NaN where the method tracks no gradient).
struct PathRecorder {
  std::vector<double> points, values, grad_norms;
  std::vector<int64_t> evaluations;
  void record(const double* x, double f, int64_t n, int64_t evals, const double* g = nullptr) {
    points.insert(points.end(), x, x + n);
    values.push_back(f);
    evaluations.push_back(evals);
    grad_norms.push_back(g ? norm2(g, n) : NAN);
  }
  Observer observer() {
    return [this](const Iterate& it) {
      record(it.x, it.f, it.n, it.evaluations, it.g);
      return false;
    };
  }
};

}  // namespace fastopt::curvature
