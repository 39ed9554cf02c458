"""Atomic file writes: a file is either its old self or complete, never partial."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: Path):
    """Yield a temporary path beside ``path``; on a clean exit it replaces ``path`` in one rename.

    On any exception the temporary file is removed and ``path`` is left as it was, so readers never
    see a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
