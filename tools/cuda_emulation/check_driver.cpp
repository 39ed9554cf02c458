// The CUDA multi-tensor driver (src/cpp/cuda/multi_tensor.cuh) against the CPU driver, without a GPU: the kernel
// is compiled as host code (cuda_runtime.h here stands in for the runtime) and run block by block, thread by
// thread (its threads write disjoint elements, so running them in turn is one valid order).  Every optimizer
// of optim/all.hpp that has a device step (cautious off), float32 and float64, options all off and all on, with and without a grad transform, on
// 16-byte-aligned and unaligned arrays of 0 to 2 * 65536 + 5 elements, 3 steps: params and state must match
// the CPU driver's bit for bit (both built with -ffp-contract=off).  Run by tools/cuda_emulation/run.sh.
#include <cmath>
#include <cstdio>
#include <random>
#include <tuple>
#include "cuda/multi_tensor.cuh"
#include "optim/all.hpp"

template <class T, class Rule, class... A> void emulate(unsigned blocks, A... args) {
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < fastopt::cuda::kThreads; ++t) {
      blockIdx.x = b; threadIdx.x = t;
      fastopt::cuda::multi_tensor_kernel<T, Rule>(args...);
    }
}

using namespace fastopt;

double value_for(const std::string& k) {
  if (k.find("beta1") != std::string::npos) return 0.9;
  if (k.find("beta2") != std::string::npos) return 0.999;
  if (k.find("beta3") != std::string::npos) return 0.9999;
  if (k == "eps") return 1e-8;
  if (k == "rho" || k == "alpha") return 0.9;
  if (k == "etaminus") return 0.5;
  if (k == "etaplus") return 1.2;
  if (k == "step_size_min") return 1e-6;
  if (k == "step_size_max") return 50;
  if (k == "t0") return 1e6;
  if (k == "momentum_decay") return 4e-3;
  if (k == "lambd") return 1e-4;
  if (k == "initial_accumulator_value" || k == "weight_decay") return 0.01;
  if (k == "momentum") return 0.9;
  if (k == "dampening" || k == "eps_root" || k.find("warmup") != std::string::npos) return 0.0;
  if (k == "lr_decay") return 0.01;
  return 0.01;
}

template <class T>
int check_all(bool flags, bool transform, bool unaligned) {
  int failures = 0;
  std::apply([&](auto... opt) {
    auto one = [&](auto o) {
      using Opt = decltype(o);
      if constexpr (!cuda::RunsOnDevice<Opt, T>::value) return;  // host-only (a reduction pass)
      else {
      const Spec& spec = Opt::spec();
      Hyper h;
      for (const HyperKey& k : spec.hyper) {
        // cautious's per-tensor rescale is host-only (the CUDA driver refuses it)
        if (k.kind == HyperKey::Kind::flag) h.set(k.name, flags && k.name != "cautious" ? 1.0 : 0.0);
        else if (k.kind == HyperKey::Kind::real) h.set(k.name, value_for(k.name));
        else for (const std::string& part : k.parts()) h.set(part, value_for(part));
      }
      for (const CarryKey& c : spec.carry) h.set(c.name, c.initial);
      const int ns = spec.num_states(h);
      const std::vector<int64_t> sizes = {0, 1, 17, 4, 2 * 65536 + 5, 1000};
      std::mt19937 rng(1);
      std::normal_distribution<double> nd;
      // host copy (CPU driver) and "device" copy (emulated CUDA driver) of every array
      std::vector<std::vector<T>> hp, hg, dp, dg; std::vector<std::vector<std::vector<T>>> hs, ds;
      const int off = unaligned ? 1 : 0;
      for (int64_t n : sizes) {
        std::vector<T> p(n + off), g(n + off);
        for (auto& x : p) x = T(nd(rng)); for (auto& x : g) x = T(nd(rng));
        hp.push_back(p); dp.push_back(p); hg.push_back(g); dg.push_back(g);
        std::vector<std::vector<T>> s(ns, std::vector<T>(n + off, T(0.5)));
        hs.push_back(s); ds.push_back(s);
      }
      for (int64_t step = 1; step <= 3; ++step) {
        std::vector<TensorPtrs<T>> ht; cuda::DeviceTensors<T> dt;
        dt.num_states = ns;
        if (transform) dt.transform = {0.5, 0.3};
        for (size_t i = 0; i < sizes.size(); ++i) {
          TensorPtrs<T> a{}, b{};
          a.param = hp[i].data() + off; b.param = dp[i].data() + off;
          a.grad = spec.reads_grad ? hg[i].data() + off : nullptr; b.grad = spec.reads_grad ? dg[i].data() + off : nullptr;
          for (int k = 0; k < ns; ++k) { a.state[k] = hs[i][k].data() + off; b.state[k] = ds[i][k].data() + off; }
          a.n = b.n = sizes[i];
          ht.push_back(a); dt.tensors.push_back(b);
        }
        {
          GradTransformScope scope(transform ? GradTransform{0.5, 0.3} : GradTransform{});
          Opt::template step<T>(ht, h, step);
        }
        Opt::template step<T, cuda::DeviceTensors<T>>(dt, h, step);
        for (const auto& [k, v] : Opt::carry(h, step)) h.set(k, v);
      }
      size_t bad = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        for (size_t j = 0; j < hp[i].size(); ++j) {
          auto same = [](T a, T b) { return a == b || (a != a && b != b); };
          if (!same(hp[i][j], dp[i][j])) ++bad;
          for (int k = 0; k < ns; ++k) if (!same(hs[i][k][j], ds[i][k][j])) ++bad;
        }
      }
      std::printf("%-10s %s flags=%d transform=%d unaligned=%d states=%d: %zu mismatches\n", Opt::name,
                  sizeof(T) == 4 ? "f32" : "f64", flags, transform, unaligned, ns, bad);
      failures += bad != 0;
      }
    };
    (one(opt), ...);
  }, AllOptimizers{});
  return failures;
}

int main() {
  int f = 0;
  for (bool flags : {false, true})
    for (bool transform : {false, true})
      for (bool unaligned : {false, true}) { f += check_all<float>(flags, transform, unaligned); f += check_all<double>(flags, transform, unaligned); }
  std::printf("FAILURES: %d\n", f);
  return f != 0;
}
