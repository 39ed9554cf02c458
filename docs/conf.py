"""Sphinx configuration of fastopt's documentation site.

Build it with ``tools/build_docs.sh`` (or ``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``);
``pip install ".[docs]"`` installs what it needs. Why Sphinx with MyST-NB: fastopt's docstrings are numpydoc-style
reStructuredText with ``.. math::`` blocks (the update rules), which autodoc/autosummary and napoleon render as
they are; MyST-NB reads the pages as Markdown and executes the tutorials, Jupyter-compatible text notebooks, at
build time.  Everything works offline: no intersphinx, MathJax bundled by ``sphinx-mathjax-offline``.
"""
import os
import sys
from pathlib import Path

import fastopt

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
# The tutorials' kernels inherit this: OpenMP threads that wait for work sleep instead of spinning.  On a shared
# 2-core machine spinning threads took the cores from the threads with work (the K-FAC tutorial took 54 s
# instead of 12 s at a load of 9); set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

project = "fastopt"
author = "the fastopt developers"
copyright = "2026, the fastopt developers"
release = version = fastopt.__version__

extensions = [
    "myst_nb",                   # MyST Markdown pages and notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",       # the numpydoc-style Parameters/Returns sections of the docstrings
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",    # MathJax 3 copied into _static: math renders without a CDN
    "fastopt_docs",              # docs/_ext: the update-rule directive, short-name references, docstring checks
]

# Not site content: the README's sections in waiting, and the README's own appendix pages (their links point
# into the repository).  The figure folders are referenced by pages, not built.
exclude_patterns = ["_build", "sections", "curvature", "jupyter_execute", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
root_doc = "index"

# Every warning is an error in CI (-W -n): broken references, undefined labels, missing docstrings.
nitpicky = True
# Types named in docstrings and signatures outside fastopt (numpy.ndarray, "list of float", "optional") cannot
# be resolved offline (no intersphinx inventories): only references into fastopt must resolve.
nitpick_ignore_regex = [(r"py:(class|obj|data|exc|func|meth|attr)", r"(?!fastopt\b).*")]

# --- MyST and MyST-NB ---
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# FASTOPT_DOCS_EXECUTE: "force" (CI: run every tutorial), "cache" (tools/build_docs.sh --quick: rerun only the
# tutorials whose code changed), "off".
nb_execution_mode = os.environ.get("FASTOPT_DOCS_EXECUTE", "force")
nb_execution_cache_path = str(Path(__file__).parent / "_build" / ".jupyter_cache")
nb_execution_raise_on_error = True     # a failing cell fails the build
nb_execution_show_tb = True
nb_execution_timeout = 120             # per cell; each tutorial runs in well under a minute
nb_execution_in_temp = True            # tutorials that write files write them in a temporary folder
nb_merge_streams = True

# --- autodoc / autosummary / napoleon ---
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"            # the Parameters sections say the types in words
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# Parameters as one formatted list: the types stay words ("array of shape (n,)"), not ambiguous cross-references.
napoleon_use_param = False
napoleon_use_keyword = False

# --- HTML ---
html_theme = "furo"
html_title = f"fastopt {release}"
html_static_path = []
html_show_sourcelink = False
