"""`fastopt study`: every section in its quick version, one self-contained page, and resuming after an
interruption without redoing finished sections or runs."""
import json
import re

import pytest

from fastopt import cli, study
from mnist_data import needs_mnist

pytestmark = needs_mnist


def images(page):
    return re.findall(r'<img src="([^"]*)"', page.read_text())


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory, mnist):
    import fastopt.datasets as datasets
    saved = datasets.load
    datasets.load = lambda name, path=None, progress=True, **kwargs: mnist
    try:
        out = tmp_path_factory.mktemp("study")
        return out, study.run_study(out, quick=True, progress=False)
    finally:
        datasets.load = saved


def test_every_section_is_in_one_self_contained_page(quick_study):
    out, report = quick_study
    assert [s.key for s in report.sections] == list(study.SECTIONS) == report.computed
    sources = images(report.page)
    assert len(sources) == sum(len(s.figures) for s in report.sections) >= len(study.SECTIONS)
    assert all(src.startswith("data:image/png;base64,") for src in sources)  # nothing to fetch: it travels alone
    page = report.page.read_text()
    for section in report.sections:
        assert f'id="{section.key}"' in page and section.text and section.seconds > 0
        assert json.loads((out / section.key / "section.json").read_text())["title"] == section.title
    assert "Adam against RMSprop" in page and "784-128-10" in page and "not reached" in page


def test_runs_shared_by_sections_are_trained_once(quick_study):
    out, _ = quick_study
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == len(set(runs)) and "adam_lr0.001_h64_e1_b128" in runs  # first-order, adam-rmsprop, curvature


def test_a_second_call_resumes_every_finished_section(quick_study, capsys):
    out, first = quick_study
    again = study.run_study(out, quick=True, sections=["notebook", "sgd-lr"])
    assert again.computed == [] and [s.key for s in again.sections] == ["notebook", "sgd-lr"]
    printed = capsys.readouterr().out
    assert "[1/2] notebook: already done" in printed and f"wrote {out / 'report.html'}" in printed
    assert again.sections[0].text == first.sections[2].text


def test_an_interrupted_study_redoes_only_the_unfinished_section(tmp_path, served_mnist, monkeypatch):
    def interrupted(settings):
        raise KeyboardInterrupt

    monkeypatch.setitem(study.SECTIONS, "landscapes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        study.run_study(tmp_path, quick=True, sections=["notebook", "landscapes"], progress=False)
    assert (tmp_path / "notebook" / "section.json").exists() and not (tmp_path / "landscapes").exists()
    assert not (tmp_path / "report.html").exists()
    monkeypatch.undo()
    report = study.run_study(tmp_path, quick=True, sections=["notebook", "landscapes"], progress=False)
    assert report.computed == ["landscapes"]
    fresh = study.run_study(tmp_path, quick=True, sections=["notebook"], fresh=True, progress=False)
    assert fresh.computed == ["notebook"]


@pytest.mark.parametrize("sections", [["nope"], [], ["notebook", "notebook"]])
def test_bad_sections_are_refused_before_anything_runs(tmp_path, sections):
    with pytest.raises(ValueError, match="sections"):
        study.run_study(tmp_path / "s", sections=sections)
    assert not (tmp_path / "s").exists()


def test_cli_study(tmp_path, served_mnist, capsys):
    assert cli.main(["study", "--quick", "--sections", "notebook", "--out", str(tmp_path), "--no-progress"]) == 0
    assert f"wrote {tmp_path / 'report.html'}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["study", "--sections", "nope", "--out", str(tmp_path)])
    assert e.value.code == 2 and "sections" in capsys.readouterr().err
