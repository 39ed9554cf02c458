"""The guide pages (docs/guide/*.md) against the code: every ``{update-rule}`` names a public object whose
docstring has a ``.. math::`` block (what the directive renders), and every figure they show exists."""
import importlib
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md"))
UPDATE_RULE = re.compile(r"^```\{update-rule\}\s+(\S+)\s*$", re.MULTILINE)
FIGURE = re.compile(r"^```\{figure\}\s+(\S+)\s*$|!\[[^\]]*\]\(([^)\s]+\.(?:png|gif|svg))\)", re.MULTILINE)


def resolve(dotted: str):
    """The object a dotted path names (a module, then attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def test_the_guide_has_pages():
    assert (GUIDE / "index.md").exists()
    assert len(PAGES) >= 13


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_update_rules_name_objects_with_math(page):
    for target in UPDATE_RULE.findall(page.read_text()):
        obj = resolve(target)
        assert ".. math::" in (obj.__doc__ or ""), f"{page.name}: {target} has no .. math:: block in its docstring"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_figures_exist(page):
    for groups in FIGURE.findall(page.read_text()):
        path = next(g for g in groups if g)
        assert (page.parent / path).resolve().is_file(), f"{page.name}: figure {path} not found"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_cites_its_sources(page):
    if page.name != "index.md":
        assert "## References" in page.read_text(), f"{page.name}: no References section"
