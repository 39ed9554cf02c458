"""`fastopt logreg` (fastopt.studies.logistic_study) in --quick mode on a small MNIST subset."""
import csv
import json

import numpy as np
import pytest

import fastopt
from fastopt import cli
from fastopt.studies.logistic import LOGREG_METHODS, available_methods
from mnist_data import needs_mnist
from study_helpers import image


def test_available_methods_follow_the_build():
    names = available_methods()
    assert names[-1] == "adam" and set(names) <= set(LOGREG_METHODS)
    assert {"lbfgs", "bfgs", "cg"} <= set(names)
    assert ("newton-cg" in names) == ("newton-cg" in fastopt.curvature.methods())


@needs_mnist
def test_logreg_quick_writes_figures_numbers_and_table(tmp_path, served_mnist, capsys):
    out = tmp_path / "logreg"
    assert cli.main(["logreg", "--out", str(out), "--quick", "--limit", "300", "--time-limit", "0.5",
                     "--adam-lrs", "0.01,0.1", "--dpi", "40"]) == 0
    printed = capsys.readouterr().out
    runs = [m for m in available_methods() if m != "adam"] + ["adam lr=0.01", "adam lr=0.1"]
    for label in runs:
        assert f"[{label}] running" in printed
        assert any(line.startswith(label + " ") for line in printed.splitlines())
    assert "BFGS: H is 493 MB" in printed
    assert sorted(p.name for p in out.iterdir()) == ["logreg.csv", "logreg.json", "logreg_evals.png",
                                                     "logreg_time.png"]
    image(out / "logreg_time.png")
    image(out / "logreg_evals.png")
    summary = json.loads((out / "logreg.json").read_text())
    assert summary["setup"]["train_samples"] == 300 and summary["setup"]["dim"] == 7850
    assert [r["run"] for r in summary["runs"]] == runs
    cost = summary["bfgs_cost"]
    assert cost["H_megabytes"] == pytest.approx(7850 ** 2 * 8 / 1e6)
    assert 0 < cost["objective_share"] < 1 and cost["seconds_per_iteration"] > 0
    traces = summary["traces"]
    assert summary["f_star"] == min(min(t["loss"]) for t in traces)
    for t in traces:
        assert t["loss"][0] == pytest.approx(np.log(10))  # every run starts from zero
        assert t["evaluations"][0] == 1 and t["seconds"][0] == 0
        assert np.all(np.diff(t["seconds"]) >= 0) and np.all(np.diff(t["evaluations"]) >= 1)
        assert len(t["loss"]) == t["iterations"] + 1 >= 2
        if t["method"] != "adam":  # a line search accepts only decreasing steps
            assert np.all(np.diff(t["loss"]) < 0)
    with open(out / "logreg.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(t["loss"]) for t in traces)
    assert float(rows[-1]["loss"]) == traces[-1]["loss"][-1]


@pytest.mark.parametrize("flags, message", [
    (["--methods", "lbfgs,newton-x"], "argument --methods: unknown method(s) newton-x"),
    (["--adam-lrs", "0.1,-1"], "argument --adam-lrs: expected positive numbers"),
    (["--time-limit", "0"], "argument --time-limit: expected a positive number, got '0'"),
    (["--l2", "-1"], "argument --l2: expected a finite number >= 0, got -1.0"),
])
def test_logreg_bad_flags_exit_2_naming_the_flag(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        cli.main(["logreg", "--out", str(tmp_path / "o"), *flags])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
