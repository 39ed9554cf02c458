"""``fastopt study``: the seeds' experiments end to end, in one self-contained HTML report.

::

    from fastopt import study
    report = study.run_study("study", quick=True)     # study/report.html, one folder per section

Each section of :data:`SECTIONS` (all first-order optimizers on MNIST, Adam against RMSprop, the seeds'
notebook experiment, SGD's learning rate, momentum, batch sizes, landscapes, the challenge demos, the
curvature of a trained network) writes its runs and figures under ``<out>/<key>/`` and, once complete, a
``section.json`` record. An interrupted study run again with the same folder skips every section that has its
record, and the training runs of an unfinished section continue from their checkpoints. The page,
``report.html``, embeds every figure, so it can be moved or mailed alone.
"""
from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

from .page import write_page
from .record import Section
from .sections import SECTIONS, Settings


@dataclass
class StudyReport:
    """What :func:`run_study` wrote.

    Parameters
    ----------
    page : Path
        ``report.html``.
    sections : list of Section
        In page order.
    computed : list of str
        The keys of the sections computed by this call (the others were resumed from their records).
    """

    page: Path
    sections: list
    computed: list


def run_study(out="study", quick: bool = False, sections=None, fresh: bool = False, dataset: str = "mnist",
              data=None, seed: int = 0, progress: bool = True) -> StudyReport:
    """Run the study's sections (the finished ones are read back, not redone) and write ``out/report.html``.

    Parameters
    ----------
    out : path-like
        The study's folder.
    quick : bool
        A small version (about a minute here) for smoke tests and CI.
    sections : sequence of str, optional
        Keys of :data:`SECTIONS` to include, in page order (default: all).
    fresh : bool
        Recompute every section even if its record exists.
    dataset, data :
        The dataset and the folder of its files.
    seed : int
        Seeds everything the sections draw.
    progress : bool
        Say which section runs, what is left and how long each took (and show the runs' progress).

    Returns
    -------
    StudyReport
    """
    keys = list(SECTIONS) if sections is None else list(sections)
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown or not keys or len(set(keys)) != len(keys):
        raise ValueError(f"sections: expected distinct names among {', '.join(SECTIONS)}, got {keys!r}")
    out = Path(out)
    settings = Settings(out, quick=quick, dataset=dataset, data=data, seed=seed, progress=progress)
    done, computed, start = [], [], time.perf_counter()
    for number, key in enumerate(keys, 1):
        section = None if fresh else Section.load(out, key)
        if section is not None:
            if progress:
                print(f"[{number}/{len(keys)}] {key}: already done ({section.seconds:.0f} s when computed)", flush=True)
        else:
            if progress:
                print(f"[{number}/{len(keys)}] {key} ... (left after it: {', '.join(keys[number:]) or 'none'})",
                      flush=True)
            began = time.perf_counter()
            section = SECTIONS[key](settings)
            section.seconds = time.perf_counter() - began
            section.save(out)
            computed.append(key)
            if progress:
                print(f"[{number}/{len(keys)}] {key}: done in {section.seconds:.0f} s", flush=True)
        done.append(section)
    total = sum(s.seconds for s in done)
    intro = (f"{'Quick version: 2,000 samples, 1 epoch, small networks. ' if quick else ''}Dataset {dataset}, seed "
             f"{seed}; {platform.processor() or platform.machine()}, {len(done)} sections computed in {total:.0f} s "
             f"in all (this call: {time.perf_counter() - start:.0f} s). Made by fastopt study.")
    page = write_page(out, "fastopt study: the seeds' experiments", intro, done)
    print(f"wrote {page}")
    return StudyReport(page, done, computed)


__all__ = ["SECTIONS", "Section", "Settings", "StudyReport", "run_study"]
