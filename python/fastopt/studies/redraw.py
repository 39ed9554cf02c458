"""Figures redrawn from saved run folders, without training again."""
from __future__ import annotations

from pathlib import Path

from ..runs import load_run, restore_model
from .checks import beside, figure_path
from .trainings import prediction_figures


def _run_label(folder: Path, config: dict) -> str:
    return folder.name or config.get("optimizer", "run")


def redraw_history(folder, out=None, dpi: float = 90) -> Path:
    """``history.png`` (or ``out``) of a saved run: loss and accuracy per epoch, train against test.

    Parameters
    ----------
    folder : path-like
        A run folder.
    out : path-like, optional
        The figure, .png or .svg (default: ``<folder>/history.png``).
    dpi : float
        Its resolution.

    Returns
    -------
    Path
    """
    from .. import plots
    folder = Path(folder)
    config, history = load_run(folder)
    out = folder / "history.png" if out is None else figure_path(out)
    lr = config.get("lr")  # None: a run folder without config.json
    plots.history(history, title=_run_label(folder, config) + ("" if lr is None else f" (lr {lr:g})"), save=out,
                  dpi=dpi)
    return out


def redraw_comparison(folders, out="comparison.png", dpi: float = 90) -> Path:
    """Several saved runs in one figure against epochs and wall time, labelled by their folder names.

    Parameters
    ----------
    folders : sequence of path-like
        Run folders, with distinct names.
    out : path-like
        The figure, .png or .svg.
    dpi : float
        Its resolution.

    Returns
    -------
    Path
    """
    from .. import plots
    out = figure_path(out)
    folders = [Path(f) for f in folders]
    if not folders:
        raise ValueError("folders: expected at least one run folder")
    histories = {}
    for folder in folders:
        config, history = load_run(folder)
        label = _run_label(folder, config)
        if label in histories:
            raise ValueError(f"folders: two runs are labelled {label!r} (same folder name)")
        histories[label] = history
    rows = ("train_loss", "test_loss", "test_accuracy")
    # A registry name as a label keeps that optimizer's colour; other labels get their stable spare colours.
    plots.optimizer_comparison(histories, rows=rows, save=out, dpi=dpi)
    return out


def redraw_confusion(folder, out=None, data=None, dpi: float = 90) -> list[Path]:
    """``confusion.png`` and ``misclassified.png`` (in the run folder, or ``out`` and the file beside it)
    from the model in a saved run's checkpoint, evaluated on its test split.

    Parameters
    ----------
    folder : path-like
        A run folder with config.json and checkpoint.npz.
    out : path-like, optional
        The confusion matrix, .png or .svg.
    data : path-like, optional
        Folder holding the dataset's files.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    list of Path
    """
    folder = Path(folder)
    out = folder / "confusion.png" if out is None else figure_path(out)
    model, test, classes = restore_model(folder, data)
    return prediction_figures(model, test, classes, [out, out.with_name("misclassified" + out.suffix)
                               if out.stem == "confusion" else beside(out, "misclassified")], dpi)
