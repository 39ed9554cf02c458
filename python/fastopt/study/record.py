"""One section of the study report, as written to ``<out>/<key>/section.json`` once it is complete: the record
that lets an interrupted study resume without redoing the sections it finished."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..atomic import atomic_write

RECORD = "section.json"


@dataclass
class Section:
    """What a finished section shows.

    Parameters
    ----------
    key : str
        Its folder under the study's output and its anchor in the page.
    title : str
        Its heading.
    text : list of str
        Paragraphs saying what it ran and what the figures show (with the measured numbers).
    figures : list of (str, str)
        (file relative to the study's folder, caption) pairs.
    table : list of list of str, optional
        A table; the first row is the header.
    seconds : float
        How long the section took to compute.
    """

    key: str
    title: str
    text: list
    figures: list = field(default_factory=list)
    table: list | None = None
    seconds: float = 0.0

    def save(self, out: Path) -> None:
        """Write the record atomically: a section without one is redone on resume."""
        with atomic_write(out / self.key / RECORD) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, out: Path, key: str) -> "Section | None":
        """The finished section ``key`` under ``out``, or None if it has no complete record."""
        path = out / key / RECORD
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        data["figures"] = [tuple(f) for f in data["figures"]]
        return cls(**data)
