"""fastopt.atomic: atomic replacement, and the temporaries of writers that died removed before the next write."""
import os
import subprocess
import sys

import pytest

from fastopt.atomic import atomic_write, remove_orphans

posix_only = pytest.mark.skipif(os.name != "posix", reason="pids are checked with os.kill(pid, 0)")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    with atomic_write(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@posix_only
def test_a_dead_writers_temporary_is_removed_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "checkpoint.npz"
    orphan = tmp_path / f".checkpoint.npz.{dead_pid()}.tmp"
    orphan.write_bytes(b"half a checkpoint")
    live_writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        in_progress = tmp_path / f".checkpoint.npz.{live_writer.pid}.tmp"
        in_progress.write_bytes(b"being written")
        other = tmp_path / f".other.npz.{dead_pid()}.tmp"  # another file's temporary: not ours to judge
        other.write_bytes(b"x")
        with atomic_write(target) as tmp:
            tmp.write_bytes(b"complete")
        assert not orphan.exists()
        assert in_progress.read_bytes() == b"being written" and other.exists()
        assert target.read_bytes() == b"complete"
    finally:
        live_writer.kill()
        live_writer.wait()


@posix_only
def test_remove_orphans_reports_what_it_removed_and_ignores_odd_names(tmp_path):
    target = tmp_path / "h.json"
    orphan = tmp_path / f".h.json.{dead_pid()}.tmp"
    odd = tmp_path / ".h.json.notapid.tmp"
    for path in (orphan, odd):
        path.write_text("x")
    assert remove_orphans(target) == [orphan]
    assert odd.exists() and remove_orphans(tmp_path / "missing" / "f") == []
