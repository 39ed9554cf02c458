"""Write the API reference's pages, docs/api/<page>.rst, from the public names of fastopt.

Run it after adding a public class or function (``python tools/api_pages.py``) and commit the pages:
tests/test_docs_api.py fails while a name of ``fastopt.__all__`` or of a public submodule's ``__all__`` is
missing from them.  Each object is documented once, under the first page (in PAGES order) whose namespace
exports it: ``fastopt.Adam`` on the top-level page, not again as ``fastopt.optim.Adam`` (references by either
name resolve to it: docs/_ext/fastopt_docs.py).  Objects that only a deeper module exports
(``fastopt.curvature.surface.SurfaceGrid``) go on the page of its nearest documented ancestor.
"""
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

API = Path(__file__).resolve().parent.parent / "docs" / "api"

# (page, module, title): the order is the order of the API index and of homing.
PAGES = [
    ("fastopt", "fastopt", "fastopt: optimizers and the names used most"),
    ("optim", "fastopt.optim", "fastopt.optim: the optimizer base, registry and kernels"),
    ("schedules", "fastopt.optim.schedules", "fastopt.optim.schedules: learning-rate schedules"),
    ("curvature", "fastopt.curvature", "fastopt.curvature: second-order methods, curvature, manifolds"),
    ("landscape", "fastopt.landscape", "fastopt.landscape: test functions and trajectories"),
    ("nn", "fastopt.nn", "fastopt.nn: the C++ MLP"),
    ("datasets", "fastopt.datasets", "fastopt.datasets: MNIST and Fashion-MNIST"),
    ("train", "fastopt.train", "fastopt.train: fit and its history"),
    ("metrics", "fastopt.metrics", "fastopt.metrics"),
    ("lr_find", "fastopt.lr_find", "fastopt.lr_find: the learning-rate range test"),
    ("checkpoint", "fastopt.checkpoint", "fastopt.checkpoint"),
    ("runs", "fastopt.runs", "fastopt.runs: run folders"),
    ("torch", "fastopt.torch", "fastopt.torch: torch.optim adapters"),
    ("tune", "fastopt.tune", "fastopt.tune: hyperparameter search"),
    ("plots", "fastopt.plots", "fastopt.plots: figures"),
    ("report", "fastopt.report", "fastopt.report: training reports"),
    ("demos", "fastopt.demos", "fastopt.demos: the challenges of optimization"),
    ("studies", "fastopt.studies", "fastopt.studies: the logic of the commands"),
    ("study", "fastopt.study", "fastopt.study: one-command study reports"),
    ("dashboard", "fastopt.dashboard", "fastopt.dashboard"),
    ("cli", "fastopt.cli", "fastopt.cli: the command line"),
]
KINDS = [("Modules", inspect.ismodule), ("Classes", inspect.isclass), ("Functions", callable),
         ("Constants", lambda obj: True)]


def public_names(module) -> list:
    """``module.__all__``, or (a module without one) the public classes and functions defined in it."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module.__name__]


def public_modules(package) -> list:
    """Every importable module under ``package`` with no private part in its name."""
    names = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def home_objects():
    """page -> [(module name, [names])] with every public object once."""
    homed, layout = set(), {page: [] for page, _, _ in PAGES}
    module_pages = {module: page for page, module, _ in PAGES}

    def add(page, module, names):
        fresh = []
        for name in names:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                if page == "fastopt" or obj.__name__ not in module_pages:
                    fresh.append(name)
                continue
            if id(obj) not in homed:
                homed.add(id(obj))
                fresh.append(name)
        if fresh:
            layout[page].append((module.__name__, fresh))

    for page, module_name, _ in PAGES:
        add(page, importlib.import_module(module_name), public_names(importlib.import_module(module_name)))
    import fastopt
    for module_name in sorted(public_modules(fastopt)):
        module = importlib.import_module(module_name)
        if module_name in module_pages or not hasattr(module, "__all__"):
            continue
        ancestor = max((m for m in module_pages if module_name.startswith(m + ".")), key=len)
        add(module_pages[ancestor], module, module.__all__)
    return layout


def section(module_name, names, heading) -> list:
    module = importlib.import_module(module_name)
    lines = []
    if heading:
        lines += [heading, "-" * len(heading), "", f".. automodule:: {module_name}", "   :no-members:",
                  "   :no-index:", ""]  # its objects are indexed; the module itself may share a function's name
    lines += [f".. currentmodule:: {module_name}", ""]
    for kind, test in KINDS:
        chosen = [n for n in names if test(getattr(module, n))]
        names = [n for n in names if n not in chosen]
        if not chosen:
            continue
        lines += [f".. rubric:: {kind}", ""]
        if kind == "Modules":
            lines += [f"- :mod:`{getattr(module, n).__name__}`" for n in chosen] + [""]
        elif kind == "Constants":
            for name in chosen:
                lines += [f".. autodata:: {name}"]
                if len(repr(getattr(module, name))) > 80:
                    lines += ["   :no-value:"]
                lines += [""]
        else:
            # A function named like a submodule (curvature.riemannian_minimize): autosummary would import the
            # module, so it is documented in place.
            shadowed = [n for n in chosen if f"{module_name}.{n}" in sys.modules]
            listed = [n for n in chosen if n not in shadowed]
            if listed:
                lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
                lines += [f"   {n}" for n in listed] + [""]
            for name in shadowed:
                directive = "autoclass" if inspect.isclass(getattr(module, name)) else "autofunction"
                lines += [f".. {directive}:: {name}", ""]
    return lines


def write_pages():
    API.mkdir(parents=True, exist_ok=True)
    layout = home_objects()
    for page, module_name, title in PAGES:
        lines = [".. This page is written by tools/api_pages.py: edit that script, not this file.", "",
                 title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", ""]
        for section_module, names in layout[page]:
            heading = None if section_module == module_name else f"``{section_module}``"
            lines += section(section_module, names, heading)
        (API / f"{page}.rst").write_text("\n".join(lines).rstrip() + "\n")
    index = ["# API reference", "",
             "Generated from the docstrings of every public class and function: the names of `fastopt.__all__`",
             "and of each public submodule's `__all__` (modules without one: the classes and functions they",
             "define).  Each object is documented once, under the shortest name that exports it.", "",
             "```{toctree}", ":maxdepth: 1", ""] + [page for page, _, _ in PAGES] + ["```", ""]
    (API / "index.md").write_text("\n".join(index))


if __name__ == "__main__":
    write_pages()
    sys.exit(0)
