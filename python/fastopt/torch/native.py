"""The optional C++ reader of torch tensors (addresses.cpp): built on first use, or the Python path.

A ``fastopt.torch`` step needs, per param, the param's data address (is the plan still valid?), its gradient's
address (checked: dtype, size, contiguity) and, after the step, a bump of the param's version counter.  In
Python that is several torch calls per tensor, about 1 us per param on this project's machine, half the step
on 10,000 small params.  ``addresses.cpp`` does it in one call per group; ``torch.utils.cpp_extension.load``
compiles it against the installed torch the first time a step needs it (about a minute, needs a C++ compiler
and ninja) and caches it (``TORCH_EXTENSIONS_DIR``, by default ``~/.cache/torch_extensions``).  Where that is
not possible the adapter reads the same values in Python, with the same results; :func:`status` says which
path runs and why.  ``FASTOPT_TORCH_NATIVE=0`` keeps to the Python path without trying to build.
"""
from __future__ import annotations

import os
import warnings

NAME = "fastopt_torch_addresses"
SOURCE = os.path.join(os.path.dirname(__file__), "addresses.cpp")

_built = None  # the compiled extension, once built
_failure = None  # why it could not be built
_tried = False
_enabled = os.environ.get("FASTOPT_TORCH_NATIVE", "1") != "0"


def _build():
    """Compile (or load from the cache) the extension; warnings of the build tools are not the caller's."""
    from torch.utils import cpp_extension

    if not cpp_extension.is_ninja_available():
        raise RuntimeError("ninja is not installed (pip install ninja)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cpp_extension.load(NAME, [SOURCE], extra_cflags=["-O2"], verbose=False)


def module():
    """The compiled extension (``scan``, ``bump_versions``), or None when the Python path is used."""
    global _built, _failure, _tried
    if not _enabled:
        return None
    if not _tried:
        _tried = True
        try:
            _built = _build()
        except Exception as e:  # no compiler, no ninja, headers that do not build: the Python path works
            _failure = f"{type(e).__name__}: {str(e).strip()[:300]}"
    return _built


def status() -> str:
    """Which path reads the tensors: ``"native"`` (the C++ reader) or ``"python (<why>)"``.  The first call
    decides (and builds), as the first step would."""
    if module() is not None:
        return "native"
    if not _enabled:
        return "python (switched off: FASTOPT_TORCH_NATIVE=0 or fastopt.torch.native.use(False))"
    return f"python (the C++ reader did not build: {_failure})"


def use(enabled: bool) -> None:
    """Take the C++ reader (when it builds) or the Python path from the next step on; both give the same
    results (tests and benchmarks compare them)."""
    global _enabled
    _enabled = bool(enabled)
