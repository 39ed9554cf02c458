"""The guide pages (docs/guide/*.md): every figure they show exists, and every page cites its sources.

(That each ``{update-rule}`` names a docstring with a ``.. math::`` block is checked for the whole site by
tests/test_docs_api.py.)"""
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md"))
FIGURE = re.compile(r"^```\{figure\}\s+(\S+)\s*$|!\[[^\]]*\]\(([^)\s]+\.(?:png|gif|svg))\)", re.MULTILINE)
TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.DOTALL)


def test_the_index_lists_every_page():
    body = TOCTREE.search((GUIDE / "index.md").read_text()).group(1)
    listed = {line.strip() for line in body.splitlines() if line.strip() and not line.startswith(":")}
    assert listed == {page.stem for page in PAGES} - {"index"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_figures_exist(page):
    figures = [next(g for g in groups if g) for groups in FIGURE.findall(page.read_text())]
    for path in figures:
        assert (page.parent / path).resolve().is_file(), f"{page.name}: figure {path} not found"


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "index.md"], ids=lambda p: p.name)
def test_every_page_cites_its_sources(page):
    references = page.read_text().split("## References", 1)
    assert len(references) == 2, f"{page.name}: no References section"
    entries = [line for line in references[1].splitlines() if line.startswith("- ")]
    assert entries and all(re.search(r"\((19|20)\d\d\)", e) for e in entries), f"{page.name}: entries need a year"
