"""The first ``.. math::`` block of a docstring, and objects by dotted name: the part of the update-rule
directive that needs no Sphinx (tests/test_docs_api.py checks every use of the directive with it)."""
import importlib
import inspect
import re

MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::[ \t]*(.*)$")


def resolve(dotted: str):
    """The object named by a dotted path (``fastopt.Adam``, ``fastopt.optim.schedules.OneCycleLR``)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)  # AttributeError names the missing part
        return obj
    raise ImportError(f"no module in {dotted!r} can be imported")


def first_math_block(docstring: str) -> str:
    """The LaTeX of the first ``.. math::`` block of a docstring (its argument line and indented body).

    Raises ValueError when the docstring has none."""
    lines = inspect.cleandoc(docstring).splitlines()
    for index, line in enumerate(lines):
        match = MATH_DIRECTIVE.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        body = [match.group(2)] if match.group(2).strip() else []
        for following in lines[index + 1:]:
            stripped = following.strip()
            if stripped and len(following) - len(following.lstrip()) <= indent:
                break  # dedented: the block has ended
            if stripped.startswith(":") and not body:
                continue  # a directive option such as :label: or :nowrap:
            body.append(following)
        latex = inspect.cleandoc("\n".join(body))
        if latex:
            return latex
    raise ValueError("has no '.. math::' block")
