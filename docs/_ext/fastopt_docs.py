"""Sphinx extension of fastopt's site: equations taken from the docstrings, references by any public name, and
a warning (an error under ``-W``) for every documented fastopt object without a docstring.

- ``update-rule`` directive: ``{update-rule} fastopt.Adam`` renders the first ``.. math::`` block of that
  object's docstring, so a guide page states the update rule exactly as the docstring (and so the code) does,
  never a copy that can drift.  A line under it links to the object's API page.
- Short names: an object is documented once (``fastopt.Adam``), but docstrings also name it where it is
  defined or re-exported (``fastopt.optim.Adam``, ``fastopt.optim.adam.Adam``); a reference by any of these
  names resolves to the one documented entry of the same object.
- Missing docstrings: autodoc warns for each fastopt class, function or method it documents without one.
- Plain-text docstrings: fastopt's docstrings are read by ``help()`` too, where ``|x|`` is an absolute value
  and ``shape (n, *s)`` a shape; outside code, math and literal blocks, ``|`` (an rST substitution) and, in
  a parameter's type line, ``*`` (emphasis) are escaped so they print as written.  Data objects (dicts,
  lists) show their own ``#:`` comment, never the docstring of their type.
"""
import inspect
import re

from docstring_math import MATH_DIRECTIVE, first_math_block, resolve
from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)


class UpdateRule(SphinxDirective):
    """``update-rule`` NAME: the first ``.. math::`` block of NAME's docstring, with a link to NAME."""

    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        try:
            obj = resolve(name)
            latex = first_math_block(obj.__doc__ or "")
        except (ImportError, AttributeError, ValueError) as error:
            raise self.error(f"update-rule {name}: {error}") from error
        source = inspect.getsourcefile(obj) if inspect.isclass(obj) or inspect.isroutine(obj) else None
        if source:
            self.env.note_dependency(source)  # a changed docstring rebuilds the page
        block = nodes.math_block(latex, latex, docname=self.env.docname, number=None, label=None, nowrap=False,
                                 classes=["update-rule"])
        self.set_source_info(block)
        reference = addnodes.pending_xref("", refdomain="py", reftype="obj", reftarget=name, refexplicit=False,
                                          refwarn=True, refdoc=self.env.docname)
        reference += nodes.literal(name, name, classes=["xref", "py", "py-obj"])
        caption = nodes.paragraph("", "", classes=["update-rule-source"])
        caption += nodes.Text("The update rule as stated in the docstring of ")
        caption += reference
        caption += nodes.Text(".")
        return [block, caption]


def _resolve_or_none(dotted: str):
    """The object, or None where the name does not resolve (then it is simply not a candidate)."""
    try:
        return resolve(dotted)
    except Exception:  # noqa: BLE001  any import-time error means "not this name"
        return None


def _documented_by_identity(app, env) -> dict:
    """id(object) -> (fullname, entry) of every Python object documented on the site, built once per build."""
    cache = getattr(app, "_fastopt_documented", None)
    if cache is None:
        cache = {}
        for fullname, entry in env.domains["py"].objects.items():
            if entry.aliased or not fullname.startswith("fastopt"):
                continue
            obj = _resolve_or_none(fullname)
            if obj is not None:
                cache.setdefault(id(obj), (fullname, entry))
        app._fastopt_documented = cache  # on app, not env: ids are not for pickling
    return cache


def resolve_alias(app, env, node, contnode):
    """Resolve a missing fastopt reference to the documented entry of the same object."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    candidates = [target]
    module = node.get("py:module") or ""
    while module:  # relative names, as Python resolves them: the module, then its parents
        candidates.append(f"{module}.{target}")
        module = module.rpartition(".")[0]
    for candidate in candidates:
        obj = _resolve_or_none(candidate) if candidate.startswith("fastopt") else None
        if obj is None:
            continue
        found = _documented_by_identity(app, env).get(id(obj))
        if found:
            fullname, entry = found
            return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, fullname)
        # An existing fastopt object that is not public (a private base class, an internal module): plain text.
        return contnode
    return None  # no such fastopt object: a broken reference, reported by nitpicky


def forget_documented(app, env, docnames):
    app._fastopt_documented = None


CODE_SPAN = re.compile(r"(``.+?``|:[\w:]+:`[^`]*`|`[^`]*`_{0,2})")
GRID_TABLE_LINE = re.compile(r"^(\+[-=+]+\+|\| .* \|)$")
PARAMETER_LINE = re.compile(r"^\s*\*{0,2}\w+\s*:\s")


def _escape_outside_code(line: str, characters: str) -> str:
    parts = CODE_SPAN.split(line)
    for index in range(0, len(parts), 2):  # even parts are text, odd parts code spans or roles
        for character in characters:
            parts[index] = re.sub(rf"(?<![\\{re.escape(character)}]){re.escape(character)}(?!{re.escape(character)})",
                                  rf"\\{character}", parts[index])
    return "".join(parts)


def escape_plain_text(app, what, name, obj, options, lines):
    """Escape ``|`` (and ``*`` in parameter lines) outside code spans, math and literal blocks."""
    literal_indent = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.endswith("::") or MATH_DIRECTIVE.match(line) or stripped.startswith(".. "):
            literal_indent = indent  # a literal block, directive or math block follows, indented deeper
        if stripped.startswith((">>>", "... ")) or GRID_TABLE_LINE.match(stripped):
            continue  # doctest lines and grid tables
        characters = "|*" if PARAMETER_LINE.match(line) and not stripped.startswith("**") else "|"
        lines[index] = _escape_outside_code(line, characters)


def drop_type_docstring(app, what, name, obj, options, lines):
    """A data object without a ``#:`` comment would show its type's docstring (dict's, list's)."""
    if what in ("data", "attribute") and lines and type(obj).__doc__ \
            and "\n".join(lines).strip() == inspect.cleandoc(type(obj).__doc__).strip():
        lines[:] = []


def type_words_as_text(app, doctree):
    """Lowercase words of a type description (``array of shape (n,)``, ``int``) stay words.

    Sphinx makes every word of a ``:type:`` field a fuzzy class reference; "shape" would then link to
    whichever fastopt attribute is called ``shape``.  fastopt's classes are CamelCase, so a dotless
    lowercase target is never one of them."""
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("refdomain") == "py" and node.get("reftype") in ("class", "obj") and node.get("refspecific") \
                and re.fullmatch(r"[a-z_][a-z0-9_]*", node.get("reftarget", "")):
            node.replace_self(node.children)


def check_docstring(app, what, name, obj, options, lines):
    if what in ("class", "function", "method", "exception", "module") and name.startswith("fastopt") \
            and not any(line.strip() for line in lines):
        logger.warning(f"fastopt's public {what} {name} has no docstring", type="fastopt", subtype="docstring")


def setup(app):
    app.add_directive("update-rule", UpdateRule)
    app.connect("missing-reference", resolve_alias)
    app.connect("doctree-read", type_words_as_text)
    app.connect("env-before-read-docs", forget_documented)
    app.connect("autodoc-process-docstring", escape_plain_text, priority=400)  # before napoleon (500)
    app.connect("autodoc-process-docstring", drop_type_docstring, priority=400)
    app.connect("autodoc-process-docstring", check_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
