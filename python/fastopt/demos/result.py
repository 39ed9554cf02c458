"""What every demo returns and leaves on disk: its figures, a short text of what they show, and its numbers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_write


@dataclass
class DemoResult:
    """One demo's outcome.

    Parameters
    ----------
    name : str
        The demo's name (``fastopt demo NAME``).
    title : str
        One line saying what the demo is about.
    text : str
        What the figures show, in a few sentences with the measured numbers (Markdown).
    numbers : dict
        The measured quantities the text quotes (JSON-serialisable), for tests and reports.
    files : list of Path
        The figures written, then ``summary.md`` and ``result.json``.
    """

    name: str
    title: str
    text: str
    numbers: dict
    files: list = field(default_factory=list)

    def write(self, out: Path) -> "DemoResult":
        """Write ``summary.md`` (title, text, figure links) and ``result.json`` into ``out``, atomically.

        Parameters
        ----------
        out : Path
            The demo's folder (the figures are already there).

        Returns
        -------
        DemoResult
            Itself, with the two files appended to ``files``.
        """
        figures = "\n".join(f"![{p.stem}]({p.name})" for p in self.files)
        with atomic_write(out / "summary.md") as tmp:
            tmp.write_text(f"# {self.title}\n\n{self.text}\n\n{figures}\n")
        with atomic_write(out / "result.json") as tmp:
            tmp.write_text(json.dumps({"name": self.name, "title": self.title, "text": self.text,
                                       "numbers": self.numbers, "figures": [p.name for p in self.files]}, indent=2))
        self.files += [out / "summary.md", out / "result.json"]
        return self
