"""The API reference covers the public API: every name of ``fastopt.__all__`` and of each public submodule's
``__all__`` is documented on a page of docs/api/ (tools/api_pages.py writes them), every public class and
function has a docstring, and every ``{update-rule}`` of the site names an object with a ``.. math::`` block.
No Sphinx needed: the pages' directives are read as text."""
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import fastopt

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
docstring_math = importlib.import_module("docstring_math")  # docs/_ext, on the path above (no Sphinx needed)
first_math_block, resolve = docstring_math.first_math_block, docstring_math.resolve

DIRECTIVE = re.compile(r"^\.\. (currentmodule|automodule|autosummary|autodata|autoclass|autofunction)::\s*(\S*)")


def documented_names(text: str) -> tuple:
    """(objects, modules): the (module, name) pairs an API page documents (autosummary entries, auto*
    directives under their currentmodule) and the modules it indexes (automodule without :no-index:)."""
    objects, modules, module, in_autosummary, pending_module = [], [], None, False, None
    for line in text.splitlines():
        match = DIRECTIVE.match(line)
        if pending_module and not line.startswith("   :"):
            modules.append(pending_module)
            pending_module = None
        if line.startswith("   :no-index:"):
            pending_module = None
        if match:
            kind, argument = match.groups()
            in_autosummary = kind == "autosummary"
            if kind == "currentmodule":
                module = argument
            elif kind == "automodule":
                pending_module = argument
            elif kind != "autosummary":
                objects.append((module, argument))
            continue
        if in_autosummary:
            entry = line.strip()
            if line.startswith("   ") and entry and not entry.startswith(":"):
                objects.append((module, entry))
            elif entry and not line.startswith(" "):
                in_autosummary = False
    if pending_module:
        modules.append(pending_module)
    return objects, modules


def api_pages() -> tuple:
    objects, modules = [], []
    for page in sorted((DOCS / "api").glob("*.rst")):
        page_objects, page_modules = documented_names(page.read_text())
        objects += page_objects
        modules += page_modules
    return objects, modules


def documented_object(module: str, name: str):
    """The object a page documents as ``name`` under ``currentmodule:: module`` (an attribute, as autodoc takes
    it: ``fastopt.curvature.trace`` is the function, not the module of the same name)."""
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def public_modules() -> list:
    """fastopt and every submodule without a private part in its name that imports here (a module whose
    optional dependency is missing is left out: the docs extra installs them all)."""
    modules = [fastopt]
    for info in pkgutil.walk_packages(fastopt.__path__, "fastopt."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError as error:  # fastopt.torch re-raises torch's absence as an ImportError with a hint
            if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("fastopt"):
                raise
    return modules


def public_objects() -> dict:
    """'module.name' -> object for every name of every public module's ``__all__``."""
    return {f"{module.__name__}.{name}": getattr(module, name)
            for module in public_modules() for name in getattr(module, "__all__", [])}


def test_the_page_parser_reads_autosummary_autodata_and_automodule():
    page = ("Title\n=====\n\n.. automodule:: fastopt.optim\n   :no-members:\n\n.. currentmodule:: fastopt.optim\n\n"
            ".. autosummary::\n   :toctree: generated\n   :nosignatures:\n\n   Adam\n   SGD\n\n.. rubric:: Data\n\n"
            ".. autodata:: REGISTRY\n   :no-value:\n\nSection\n-------\n\n.. automodule:: fastopt.optim.adam\n"
            "   :no-members:\n   :no-index:\n\n.. currentmodule:: fastopt.optim.adam\n\n.. autofunction:: f\n")
    objects, modules = documented_names(page)
    assert objects == [("fastopt.optim", "Adam"), ("fastopt.optim", "SGD"), ("fastopt.optim", "REGISTRY"),
                       ("fastopt.optim.adam", "f")]
    assert modules == ["fastopt.optim"]


def test_every_public_name_is_in_the_api_reference():
    objects, modules = api_pages()
    documented = set()
    for module, name in objects:
        documented.add(id(documented_object(module, name)))  # a listed name that does not exist fails here
    missing = [name for name, obj in public_objects().items()
               if (obj.__name__ not in modules if inspect.ismodule(obj) else id(obj) not in documented)]
    assert not missing, ("public names missing from docs/api/ (run python tools/api_pages.py): "
                         + ", ".join(missing))
    assert len(objects) > 250 and ("fastopt", "Adam") in objects
    assert ("fastopt.optim.schedules", "OneCycleLR") in objects


def test_each_object_is_documented_once():
    objects, _ = api_pages()
    seen = {}
    for module, name in objects:
        obj = documented_object(module, name)
        if inspect.isclass(obj) or inspect.isroutine(obj):
            assert id(obj) not in seen, f"{module}.{name} is documented twice (also as {seen[id(obj)]})"
            seen[id(obj)] = f"{module}.{name}"


def test_every_public_class_and_function_has_a_docstring():
    undocumented = []
    for name, obj in public_objects().items():
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj) and obj.__module__.startswith("fastopt"):
            for member, value in vars(obj).items():
                if not member.startswith("_") and inspect.isfunction(value) and not (value.__doc__ or "").strip() \
                        and not any((getattr(base, member, None).__doc__ or "").strip()
                                    for base in obj.__mro__[1:] if hasattr(base, member)):
                    undocumented.append(f"{name}.{member}")
    assert not undocumented, "public objects without a docstring: " + ", ".join(sorted(set(undocumented)))


def update_rule_uses() -> list:
    uses = []
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.parts or "sections" in page.parts:
            continue
        uses += [(page.relative_to(DOCS), name) for name in
                 re.findall(r"^\s*```\{update-rule\}\s+(\S+)", page.read_text(), flags=re.MULTILINE)]
    return uses


@pytest.mark.parametrize("page, name", update_rule_uses())
def test_every_update_rule_on_the_site_names_a_docstring_with_math(page, name):
    assert first_math_block(resolve(name).__doc__).strip()


def test_first_math_block_takes_the_first_block_whole_and_only_it():
    docstring = """Summary.

    .. math::
        :label: first

        a &= b \\\\
          &= c

    Text.

    .. math:: x = y
    """
    assert first_math_block(docstring) == "a &= b \\\\\n  &= c"
    assert first_math_block("One.\n\n.. math:: x = y\n\nMore.") == "x = y"
    assert first_math_block(fastopt.Adam.__doc__).startswith(r"g_t &= \pm\nabla f(\theta_{t-1})")
    with pytest.raises(ValueError, match="no '.. math::' block"):
        first_math_block(fastopt.AdamW.__doc__)
