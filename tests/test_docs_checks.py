"""The site's checkers fail when they should: tools/check_links.py on broken files and fragments, and
tools/check_site.py (headless Chromium, skipped without Playwright or Chromium) on equations MathJax did not
render and images that did not load.  The built site itself is checked by CI's docs stage."""
import importlib
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
check_links = importlib.import_module("check_links")
check_site = importlib.import_module("check_site")


def write(path: Path, html: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{html}</body></html>")


def test_check_links_passes_a_sound_site_and_names_each_broken_link(tmp_path, capsys):
    write(tmp_path / "index.html", '<a href="guide/a.html#rule">a</a> <a href="https://example.org/x">out</a>'
                                   '<img src="_images/f.png"> <a href="#top">top</a><p id="top"></p>')
    write(tmp_path / "guide" / "a.html", '<h1 id="rule">Rule</h1><a href="../index.html?v=1">home</a>')
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "f.png").write_bytes(b"png")
    assert check_links.main([str(tmp_path)]) == 0
    assert "0 broken" in capsys.readouterr().out

    write(tmp_path / "guide" / "b.html", '<a href="a.html#nothing">x</a> <a href="missing.html">y</a>'
                                         '<img src="../_images/gone.png">')
    assert check_links.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "guide/b.html: a.html#nothing (no id 'nothing' there)" in out
    assert "guide/b.html: missing.html (no such file)" in out
    assert "guide/b.html: ../_images/gone.png (no such file)" in out
    assert "3 broken" in out


def test_check_links_refuses_a_folder_without_a_site(tmp_path):
    assert check_links.main([str(tmp_path)]) == 2


def test_check_site_reports_unrendered_math_and_missing_images(tmp_path, capsys):
    pytest.importorskip("playwright.sync_api", reason="the browser check needs playwright")
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("Chromium would inherit the AddressSanitizer preload (CI's ASan stage)")
    if not (os.environ.get("FASTOPT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("the browser check needs Debian's chromium (apt-get install -y chromium)")
    raw = r'<article><div class="math">$$\frac{a}{b}$$</div><img src="nowhere.png"><pre>\frac in code</pre></article>'
    write(tmp_path / "guide" / "index.html", raw)
    write(tmp_path / "tutorials" / "adam_vs_rmsprop.html", "<article><p>No math here.</p></article>")
    write(tmp_path / "api" / "generated" / "fastopt.Adam.html", "<article><p>Adam.</p></article>")
    assert check_site.main([str(tmp_path), "--out", str(tmp_path / "shots")]) == 1
    out = capsys.readouterr().out
    assert "guide: MathJax did not start within 20 s" in out
    assert "guide: 0 of 1 equations rendered by MathJax" in out
    assert "guide: raw TeX '$$' left in the text" in out and "guide: raw TeX '\\\\frac' left in the text" in out
    assert "guide: image not loaded: nowhere.png" in out
    assert "tutorial:" not in out.split("check_site:")[0].split("\n", 3)[-1]  # the clean pages report nothing
    assert (tmp_path / "shots" / "guide_top.png").is_file()
