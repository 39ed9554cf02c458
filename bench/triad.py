"""A STREAM-like triad ``a = b + s*c`` that measures the memory bandwidth an optimizer step can hope for.

Arrays are 2**25 float32 (128 MiB each, four times this machine's 32 MiB L3 and far beyond any
cache), touched once before timing so page faults are not measured.  As in STREAM, the best of the
repetitions is kept: the ceiling is what the memory can do, and other processes only ever slow a
repetition down (the optimizers, compared with it, are timed by their median).

Native (preferred): ``triad.c`` compiled with the system C compiler (``-O3 -fopenmp``) and called
through ctypes with the thread count under test.  Bytes counted per element are STREAM's: read b,
read c, write a = 12 B (float32).  The CPU also reads a's cache lines before writing them
(write-allocate), 4 B more that STREAM, and we, do not count; an optimizer step only writes arrays it
has just read, so it pays no such hidden traffic.  Counting 12 B therefore understates the bus rate
and makes "fraction of triad" easier to reach, never harder -- which is why ``measure`` also reports
the in-place variant ``a += s*c`` (12 B, all counted, the optimizer's own access pattern) and
``report.py`` uses the larger of the two as the ceiling.

Fallback (no C compiler): NumPy, ``np.multiply(c, s, out=a); np.add(a, b, out=a)``, single-threaded,
counted as the 20 B per element those two passes move (c -> a: 8 B; a, b -> a: 12 B).

``python bench/triad.py [--threads N]`` prints the measurement.
"""
from __future__ import annotations

import argparse
import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N = 1 << 25
SCALAR = 3.0
MAX_STATES = 4  # state arrays same_traffic can move: fastopt's kMaxStates (Adan keeps four)
SOURCE = Path(__file__).with_name("triad.c")


@dataclass
class Bandwidth:
    """Best bandwidth of the triad in GB/s (1e9 bytes), and how it was measured."""

    triad_gbs: float          # a = b + s*c, STREAM's byte count
    in_place_gbs: float       # a = a + s*c, every byte counted (nan for the NumPy fallback)
    method: str

    @property
    def ceiling_gbs(self) -> float:
        """The best rate measured: the ceiling an optimizer step is compared with."""
        return max(self.triad_gbs, self.in_place_gbs) if self.in_place_gbs == self.in_place_gbs else self.triad_gbs


@functools.cache
def _compile() -> ctypes.CDLL | None:
    """Build triad.c into a cached shared library (loaded once per process); None when no C compiler (with OpenMP) is available."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None
    flags = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"]
    key = hashlib.sha256((SOURCE.read_text() + compiler + " ".join(flags)).encode()).hexdigest()[:16]
    library = Path(tempfile.gettempdir()) / f"fastopt_bench_triad_{key}.so"
    if not library.exists():
        partial = library.with_suffix(f".{os.getpid()}.tmp")
        done = subprocess.run([compiler, *flags, str(SOURCE), "-o", str(partial)], capture_output=True)
        if done.returncode != 0:
            return None
        partial.replace(library)
    lib = ctypes.CDLL(str(library))
    lib.triad.restype = None
    lib.triad.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_int64,
                          ctypes.c_int]
    lib.triad_in_place.restype = None
    lib.triad_in_place.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_int64, ctypes.c_int]
    lib.same_traffic.restype = None
    lib.same_traffic.argtypes = [ctypes.c_void_p] * (2 + MAX_STATES) + [ctypes.c_int, ctypes.c_int64, ctypes.c_int]
    return lib


def _best_seconds(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(threads: int, repeats: int = 20) -> Bandwidth:
    """Measure the triad with ``threads`` threads (the NumPy fallback is single-threaded)."""
    a, b, c = (np.full(N, value, dtype=np.float32) for value in (0.0, 1.0, 2.0))
    lib = _compile()
    if lib is None:
        def numpy_triad():
            np.multiply(c, SCALAR, out=a)
            np.add(a, b, out=a)
        seconds = _best_seconds(numpy_triad, repeats)
        return Bandwidth(20 * N / seconds / 1e9, float("nan"),
                         f"NumPy two-pass triad, 1 thread, 20 B/element, best of {repeats}")
    ptr = [x.ctypes.data for x in (a, b, c)]
    triad = _best_seconds(lambda: lib.triad(ptr[0], ptr[1], ptr[2], SCALAR, N, threads), repeats)
    in_place = _best_seconds(lambda: lib.triad_in_place(ptr[0], ptr[2], 0.0, N, threads), repeats)
    if not np.all(a == np.float32(1.0 + SCALAR * 2.0)):
        raise RuntimeError("triad computed a wrong result")
    return Bandwidth(12 * N / triad / 1e9, 12 * N / in_place / 1e9,
                     f"native C triad (-O3 -fopenmp), {threads} threads, 12 B/element, best of {repeats}")


def in_place_stepper(threads: int):
    """``(run, bytes)``: one in-place triad ``a += s*c`` over fresh 128 MiB arrays, and the bytes it moves.

    report.py times it in the same rounds as the optimizers, so that each row is compared with the
    bandwidth of the same moment (on a shared host it can swing by 2x within a minute); None when
    no native triad can be built.
    """
    lib = _compile()
    if lib is None:
        return None
    a, c = np.full(N, 1.0, dtype=np.float32), np.full(N, 2.0, dtype=np.float32)
    return (lambda: lib.triad_in_place(a.ctypes.data, c.ctypes.data, 0.0, N, threads)), 12 * N


def same_traffic_stepper(grad: np.ndarray, num_states: int, threads: int):
    """One pass of ``same_traffic`` (triad.c) over ``grad`` and fresh param and state arrays of its size.

    It moves exactly the bytes of an optimizer step with ``num_states`` state arrays, so the time of
    an optimizer divided by it is the optimizer's distance to the memory wall of its own access
    pattern.  None when no native triad can be built.
    """
    if not 0 <= num_states <= MAX_STATES:
        raise ValueError(f"num_states: same_traffic moves 0 to {MAX_STATES} state arrays, got {num_states}")
    lib = _compile()
    if lib is None:
        return None
    arrays = [np.zeros_like(grad) for _ in range(1 + num_states)]

    def run():  # reads `arrays` each time, which keeps them alive as long as the stepper
        pointers = [a.ctypes.data for a in arrays] + [None] * (MAX_STATES - num_states)
        lib.same_traffic(pointers[0], grad.ctypes.data, *pointers[1:], num_states, grad.size, threads)

    run()  # check that it touches every array it should, as an optimizer step would
    if not (np.array_equal(arrays[0], np.float32(-1e-30) * grad) and all(np.array_equal(a, grad) for a in arrays[1:])):
        raise RuntimeError("same_traffic computed a wrong result")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    bw = measure(args.threads)
    print(f"{bw.method}\n  triad      a = b + s*c : {bw.triad_gbs:6.1f} GB/s\n"
          f"  in place   a = a + s*c : {bw.in_place_gbs:6.1f} GB/s")


if __name__ == "__main__":
    main()
