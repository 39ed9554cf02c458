"""Print the requirements of one of pyproject.toml's extras, with fastopt's own extras expanded, one per line:
``pip install $(python tools/extra_requirements.py docs)`` installs what ``pip install ".[docs]"`` would,
without rebuilding the already installed package (CI's docs stage)."""
import re
import sys
from pathlib import Path

import tomllib


def requirements(extra: str, extras: dict, seen=None) -> list:
    seen = set() if seen is None else seen
    if extra in seen:
        return []
    seen.add(extra)
    found = []
    for requirement in extras[extra]:
        own = re.fullmatch(r"fastopt\[([\w,\s-]+)\]", requirement.strip())
        if own:
            for name in own.group(1).split(","):
                found += requirements(name.strip(), extras, seen)
        elif requirement not in found:
            found.append(requirement)
    return found


if __name__ == "__main__":
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    if len(sys.argv) != 2 or sys.argv[1] not in extras:
        sys.exit(f"usage: {sys.argv[0]} EXTRA (one of {', '.join(extras)})")
    print("\n".join(dict.fromkeys(requirements(sys.argv[1], extras))))
