"""Atomic file writes: a file is either its old self or complete, never partial."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _temporary(path: Path, pid) -> Path:
    return path.with_name(f".{path.name}.{pid}.tmp")


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)  # signal 0: an existence check that delivers nothing
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(path: Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by writers that died mid-write (killed, power cut).

    Parameters
    ----------
    path : Path
        The target file; its temporaries are ``.<name>.<pid>.tmp`` beside it.

    Returns
    -------
    list of Path
        The temporaries removed: those whose pid no longer exists.  A live process's temporary
        (a write in progress) is left alone.  Only on POSIX, where ``os.kill(pid, 0)`` checks a pid
        without touching the process.
    """
    path = Path(path)
    if os.name != "posix" or not path.parent.is_dir():
        return []
    removed = []
    for tmp in path.parent.glob(_temporary(path, "*").name):
        pid = tmp.name[len(path.name) + 2:-len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)  # another process may be cleaning up the same orphan
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_write(path: Path):
    """Yield a temporary path beside ``path``; on a clean exit it replaces ``path`` in one rename.

    On any exception the temporary file is removed and ``path`` is left as it was, so readers never
    see a partial file.  Temporaries of ``path`` orphaned by dead writers are removed first.

    Parameters
    ----------
    path : path-like
        The file to write; its folder is created if needed.

    Yields
    ------
    Path
        ``.<name>.<pid>.tmp`` beside ``path``: write the new content there.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    tmp = _temporary(path, os.getpid())
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
