"""Figures of the schedules: the curves' small multiples, trainings under several schedules, the range test."""
import numpy as np
import pytest

from fastopt.lr_find import LRFindResult
from fastopt.optim import schedules as S

plots = pytest.importorskip("fastopt.plots")


def test_schedule_curves_draw_each_schedule_in_its_panel(tmp_path):
    figure = plots.schedule_curves({"cosine": S.CosineDecay(20), "values": [1.0, 0.5, 0.25]}, steps=20, columns=3,
                                   save=tmp_path / "curves.png", dpi=50)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["cosine", "values"]
    np.testing.assert_allclose(visible[0].get_lines()[0].get_ydata(), [S.CosineDecay(20)(t) for t in range(20)])
    assert list(visible[1].get_lines()[0].get_ydata()) == [1.0, 0.5, 0.25]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="schedules"):
        plots.schedule_curves({})


def test_schedule_trainings_share_one_legend():
    record = {"epoch": 1, "test_accuracy": 0.9, "train_loss": 0.3}
    histories = {"constant": [record, {**record, "epoch": 2}], "cosine": [record, {**record, "epoch": 2}]}
    figure = plots.schedule_trainings(histories, {"constant": [1e-3] * 10, "cosine": list(np.linspace(1e-3, 0, 10))},
                                      dpi=50)
    assert len(figure.axes) == 3 and [t.get_text() for t in figure.legends[0].get_texts()] == ["constant", "cosine"]


def test_lr_find_figure_marks_every_rule():
    lrs = list(np.logspace(-5, 0, 30))
    losses = list(2 - np.tanh(np.linspace(-3, 3, 30)))
    result = LRFindResult(lrs, losses, losses, 1e-3, "valley", "end", {"valley": 1e-3, "steepest": 2e-3,
                                                                        "minimum": None})
    ax = plots.lr_find(result, dpi=50).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["mini-batch loss", "smoothed loss", "valley: 1.00e-03 (suggested)", "steepest: 2.00e-03"]
    assert ax.get_xscale() == "log"
