#!/usr/bin/env bash
# The GPU check of the CUDA kernels (issue 18), one script for one device run: build fastopt with
# FASTOPT_CUDA=ON for sm_90, show the GPU, run the CUDA tests, the benchmark, then a CPU sanity set.
# Logs go to $OUT (the device tool brings that folder back), or /tmp/gpu_check.
# Run from a copy of the checkout; a _deps folder beside the sources (pure-Python build and run
# dependencies the machine lacks, e.g. scipy_openblas32) is put on PYTHONPATH.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
ROOT=$PWD
export PYTHONUNBUFFERED=1
if [ -d _deps ]; then export PYTHONPATH="$ROOT/_deps${PYTHONPATH:+:$PYTHONPATH}"; fi
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv
  nvcc --version | tail -2
  gcc --version | head -1
  python3 -c "import torch, cupy, numpy, pybind11; print('torch', torch.__version__, 'cupy', cupy.__version__, 'numpy', numpy.__version__, 'pybind11', pybind11.__version__)"
} 2>&1 | tee "$OUT/env.txt"

start=$(date +%s)
python3 -m pip install -q --no-build-isolation --no-deps -Cbuild-dir=/tmp/fastopt-build \
  -Ccmake.define.FASTOPT_CUDA=ON -Ccmake.define.CMAKE_CUDA_ARCHITECTURES=90 . >"$OUT/build.txt" 2>&1
echo "build exit $? in $(( $(date +%s) - start )) s" | tee -a "$OUT/build.txt"
tail -20 "$OUT/build.txt"
(cd /tmp && python3 -c "import fastopt; print(fastopt.build_info()); from fastopt import _cuda; print('devices', _cuda.device_count(), _cuda.device_name(0))") 2>&1 | tee -a "$OUT/build.txt"

echo "== CUDA tests"
timeout 240 python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py tests/test_cuda_placement.py 2>&1 \
  | tee "$OUT/test_cuda.txt" | tail -40

echo "== benchmark"
FASTOPT_BENCH_JSON="$OUT/bench.json" timeout 200 python3 bench/bench_cuda.py 2>&1 | tee "$OUT/bench.txt"

echo "== CPU sanity"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_optim_reference.py tests/test_build.py 2>&1 \
  | tee "$OUT/test_cpu.txt" | tail -8
