#!/usr/bin/env bash
# Builds and runs check_driver.cpp: the CUDA driver's kernel emulated on the CPU against the CPU driver (no GPU
# needed; a few minutes of compiling).  The launch `kernel<<<...>>>(...)` is not C++, so a copy of the driver
# header with the launch replaced by the emulating loop is compiled.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../../src/cpp"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cuda"
cp "$here/cuda_runtime.h" "$work/"
sed 's/multi_tensor_kernel<T, Rule><<<table.blocks(), kThreads, 0, 0>>>(/::emulate<T, Rule>(table.blocks(), /' \
  "$src/cuda/multi_tensor.cuh" >"$work/cuda/multi_tensor.cuh"
grep -q '::emulate<T, Rule>' "$work/cuda/multi_tensor.cuh" || { echo "run.sh: the launch line of multi_tensor.cuh changed; update the sed" >&2; exit 1; }
${CXX:-g++} -std=c++17 -O1 -ffp-contract=off -I"$work" -I"$src" "$here/check_driver.cpp" -o "$work/check_driver"
"$work/check_driver"
