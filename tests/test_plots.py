"""fastopt.plots: every figure renders headless, saves decodable PNG/SVG, and draws what it should."""
import shutil
import subprocess
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from fastopt import plots  # noqa: E402
from fastopt.plots.animation import frame_steps  # noqa: E402
from fastopt.plots.landscape import runs_of  # noqa: E402

DPI = 40
RES = 30


class Bowl:
    """Stand-in for a fastopt.landscape test function: f(x, y) = x^2 + 4 y^2 + c."""

    def __init__(self, name="bowl", offset=0.0):
        self.name, self.dim, self.offset = name, 2, offset
        self.domain = ((-2.0, 2.0), (-1.5, 1.5))
        self.start = np.array([-1.8, 1.2])
        self.minima = np.array([[0.0, 0.0]])

    def value(self, x):
        return x[0] ** 2 + 4.0 * x[1] ** 2 + self.offset

    def grad(self, x):
        return np.array([2.0 * x[0], 8.0 * x[1]])

    def grid(self, X, Y):
        return X ** 2 + 4.0 * Y ** 2 + self.offset


def descend(function, optimizer, lr, steps=40, momentum=0.0):
    """A trajectory result of heavy-ball gradient descent, shaped like fastopt.landscape's."""
    x, velocity = np.array(function.start, dtype=float), np.zeros(2)
    path = [x.copy()]
    for _ in range(steps):
        velocity = momentum * velocity + function.grad(x)
        x = x - lr * velocity
        path.append(x.copy())
    path = np.array(path)
    return SimpleNamespace(path=path, losses=np.array([function.value(p) for p in path]),
                           grad_norms=np.array([np.linalg.norm(function.grad(p)) for p in path]),
                           optimizer=optimizer, lr=lr)


@pytest.fixture
def bowl():
    return Bowl()


@pytest.fixture
def runs(bowl):
    return [descend(bowl, "sgd", 0.05), descend(bowl, "momentum", 0.02, momentum=0.9), descend(bowl, "adam", 0.1)]


def check_saved(figure, tmp_path, name="figure"):
    """Save as PNG and SVG through ``save=``-style paths; both must be non-empty and decodable."""
    png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
    plots.save_figure(figure, [png, svg])
    with Image.open(png) as image:
        image.load()
        assert image.format == "PNG" and image.width > 10 and image.height > 10
        assert np.asarray(image.convert("L")).std() > 0  # not a blank canvas
    assert ET.parse(svg).getroot().tag.endswith("svg")


def path_lines(ax):
    return [line for line in ax.get_lines() if (line.get_gid() or "").startswith("path:")]


def split_colorbars(figure):
    """(plot axes, colorbar axes) of a figure."""
    colorbars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    return [ax for ax in figure.axes if ax not in colorbars], colorbars


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


# --- landscape figures ---

def test_contour_draws_paths_markers_minima_colorbar_and_legend(bowl, runs, tmp_path):
    figure = plots.contour(bowl, runs, resolution=RES, dpi=DPI, save=tmp_path / "contour.png")
    (ax,), (colorbar,) = split_colorbars(figure)
    assert colorbar.get_ylabel() == "f(x, y)"
    lines = path_lines(ax)
    assert len(lines) == 3
    for line, run in zip(lines, runs):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), run.path)
        assert line.get_color() == plots.color_for(run.optimizer)
    assert legend_labels(ax) == ["sgd lr=0.05", "momentum lr=0.02", "adam lr=0.1", "global minimum", "start", "end"]
    starts = [line for line in ax.get_lines() if line.get_marker() == "o"]
    ends = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(starts) == len(ends) == 3
    np.testing.assert_array_equal(ends[1].get_xydata()[0], runs[1].path[-1])
    minima = [line for line in ax.get_lines() if line.get_gid() == "minima"]
    np.testing.assert_array_equal(minima[0].get_xydata(), bowl.minima)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "y", "bowl")
    assert ax.get_xlim() == bowl.domain[0]
    with Image.open(tmp_path / "contour.png") as image:
        assert image.size == (round(6.4 * DPI), round(5.2 * DPI))
    check_saved(figure, tmp_path)


def test_trajectories_as_mapping_single_result_and_duplicate_optimizers(bowl, runs):
    assert [label for label, _ in runs_of({"plain": runs[0], "heavy ball": runs[1]})] == ["plain", "heavy ball"]
    assert [label for label, _ in runs_of(runs[2])] == ["adam"]
    twins = [descend(bowl, "sgd", 0.05), descend(bowl, "sgd", 0.1)]
    assert [label for label, _ in runs_of(twins)] == ["sgd lr=0.05", "sgd lr=0.1"]


def test_bad_trajectories_and_save_paths_raise_clear_errors(bowl, runs, tmp_path):
    with pytest.raises(ValueError, match="trajectories: expected at least one"):
        plots.contour(bowl, [], resolution=RES, dpi=DPI)
    broken = SimpleNamespace(path=np.zeros((5, 3)), losses=np.zeros(5), optimizer="sgd", lr=0.1)
    with pytest.raises(ValueError, match=r"trajectories: path of 'sgd' has shape \(5, 3\)"):
        plots.contour(bowl, [broken], resolution=RES, dpi=DPI)
    short = SimpleNamespace(path=np.zeros((5, 2)), losses=np.zeros(4), optimizer="sgd", lr=0.1)
    with pytest.raises(ValueError, match="losses of 'sgd' have shape"):
        plots.loss_curves([short])
    with pytest.raises(ValueError, match=r"save: .*must end in one of \.png, \.svg"):
        plots.loss_curves(runs, dpi=DPI, save=[tmp_path / "ok.png", tmp_path / "bad.jpg"])
    assert not (tmp_path / "ok.png").exists()  # nothing written when one path is bad


def test_surface_lifts_paths_to_their_losses_and_hides_what_leaves_the_domain(bowl, runs, tmp_path):
    escaping = descend(bowl, "sgd", 0.3, steps=6)  # lr > 2/8: diverges along y, leaves the domain
    figure = plots.surface(bowl, [escaping, *runs[1:]], resolution=RES, dpi=DPI)
    (ax,) = figure.axes
    assert ax.name == "3d" and ax.get_zlabel() == "f(x, y)"
    lines = path_lines(ax)
    assert len(lines) == 3 and legend_labels(ax) == ["sgd lr=0.3", "momentum lr=0.02", "adam lr=0.1"]
    x, y, z = lines[1].get_data_3d()
    np.testing.assert_array_equal(z, runs[1].losses)
    _, y_escaping, z_escaping = lines[0].get_data_3d()
    outside = np.abs(y_escaping) > 1.5
    assert outside.any() and np.isnan(z_escaping[outside]).all() and np.isfinite(z_escaping[~outside]).all()
    check_saved(figure, tmp_path)


def test_loss_curves_show_gap_to_minimum_on_log_scale(runs, tmp_path):
    shifted = Bowl(offset=-3.0)  # a negative minimum: the gap f - f* is still positive
    trajectories = [descend(shifted, "sgd", 0.05), descend(shifted, "adam", 0.1)]
    figure = plots.loss_curves(trajectories, shifted, dpi=DPI)
    (ax,) = figure.axes
    assert ax.get_yscale() == "log" and (ax.get_xlabel(), ax.get_ylabel()) == ("step", "f(x) - f*")
    lines = ax.get_lines()
    assert len(lines) == 2 and legend_labels(ax) == ["sgd lr=0.05", "adam lr=0.1"]
    np.testing.assert_allclose(lines[0].get_ydata(), np.maximum(trajectories[0].losses + 3.0, 2.2e-16), rtol=1e-12)
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(41))
    check_saved(figure, tmp_path)

    raw = plots.loss_curves(trajectories, dpi=DPI)  # no function: raw losses, some negative
    assert raw.axes[0].get_yscale() == "symlog" and raw.axes[0].get_ylabel() == "f(x)"
    assert plots.loss_curves(runs, dpi=DPI).axes[0].get_yscale() == "log"


def test_loss_curves_end_a_diverged_run_and_label_it(bowl, tmp_path):
    steady, diverged = descend(bowl, "sgd", 0.05), descend(bowl, "adam", 0.3, steps=400)  # lr 0.3 > 2/8 blows up
    assert not abs(diverged.losses[-1]) <= 1e30  # huge or NaN
    figure = plots.loss_curves([steady, diverged], bowl, dpi=DPI)
    (ax,) = figure.axes
    assert legend_labels(ax) == ["sgd lr=0.05", "adam lr=0.3 (diverged)"]
    y = ax.get_lines()[1].get_ydata()
    first_bad = np.argmax(~np.isfinite(diverged.losses) | (diverged.losses > 1e30))
    assert np.all(np.isfinite(y[:first_bad])) and np.all(np.isnan(y[first_bad:]))
    check_saved(figure, tmp_path)


def test_lr_sensitivity_orders_rates_and_rejects_mixed_optimizers(bowl, runs, tmp_path):
    rates = [descend(bowl, "sgd", lr) for lr in (0.1, 0.01, 0.2)]
    figure = plots.lr_sensitivity(bowl, rates, resolution=RES, dpi=DPI)
    (contour_ax, loss_ax), (colorbar,) = split_colorbars(figure)
    assert colorbar.get_ylabel() == "f(x, y)"
    assert legend_labels(contour_ax)[:3] == ["lr=0.01", "lr=0.1", "lr=0.2"]
    assert legend_labels(loss_ax) == ["lr=0.01", "lr=0.1", "lr=0.2"]
    assert len(path_lines(contour_ax)) == 3 and len(loss_ax.get_lines()) == 3
    assert len({tuple(line.get_color()) for line in path_lines(contour_ax)}) == 3
    assert "sgd" in figure.get_suptitle()
    check_saved(figure, tmp_path)
    with pytest.raises(ValueError, match="trajectories: expected runs of one optimizer"):
        plots.lr_sensitivity(bowl, runs, resolution=RES, dpi=DPI)


def test_momentum_vs_gd_needs_both_kinds(bowl, runs, tmp_path):
    figure = plots.momentum_vs_gd(bowl, runs[:2], resolution=RES, dpi=DPI)
    (contour_ax, loss_ax), (colorbar,) = split_colorbars(figure)
    assert colorbar.get_ylabel() == "f(x, y)"
    assert [line.get_label() for line in path_lines(contour_ax)] == ["sgd lr=0.05", "momentum lr=0.02"]
    assert legend_labels(loss_ax) == ["sgd lr=0.05", "momentum lr=0.02"] and loss_ax.get_yscale() == "log"
    check_saved(figure, tmp_path)
    with pytest.raises(ValueError, match="expected an 'sgd' run and a momentum run"):
        plots.momentum_vs_gd(bowl, runs[1:], resolution=RES, dpi=DPI)


def test_convex_vs_nonconvex_side_by_side(bowl, runs, tmp_path):
    class Saddle(Bowl):
        def grid(self, X, Y):
            return X ** 2 - Y ** 2

        def value(self, x):
            return x[0] ** 2 - x[1] ** 2

    saddle = Saddle(name="saddle")
    saddle.minima = np.zeros((0, 2))  # unbounded below: no minimum to mark
    saddle_runs = [SimpleNamespace(path=run.path, losses=np.array([saddle.value(p) for p in run.path]),
                                   optimizer=run.optimizer, lr=run.lr) for run in runs]
    figure = plots.convex_vs_nonconvex(bowl, runs, saddle, saddle_runs, resolution=RES, dpi=DPI)
    contours = [ax for ax in figure.axes if ax.get_title().startswith(("convex", "non-convex"))]
    assert [ax.get_title() for ax in contours] == ["convex: bowl", "non-convex: saddle"]
    assert [len(path_lines(ax)) for ax in contours] == [3, 3]
    assert "global minimum" in legend_labels(contours[0]) and "global minimum" not in legend_labels(contours[1])
    panels, colorbars = split_colorbars(figure)
    assert len(panels) == 4 and [ax.get_ylabel() for ax in colorbars] == ["f(x, y)"] * 2
    losses = [ax for ax in figure.axes if ax.get_title().startswith("loss on")]
    assert [ax.get_yscale() for ax in losses] == ["log", "symlog"]
    check_saved(figure, tmp_path)


# --- animation ---

def test_frame_steps_subsample_evenly_and_stop_each_path_at_its_end():
    steps = frame_steps([11, 6], frames=5)
    np.testing.assert_array_equal(steps[:, 0], [0, 2, 5, 8, 10])
    np.testing.assert_array_equal(steps[:, 1], [0, 2, 5, 5, 5])
    assert frame_steps([4], frames=50).shape == (4, 1)


def test_animation_writes_a_gif_with_the_requested_frames(bowl, runs, tmp_path):
    written = plots.animate(bowl, runs, tmp_path / "anim" / "paths.gif", frames=6, resolution=RES, dpi=30)
    assert written == tmp_path / "anim" / "paths.gif"
    with Image.open(written) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6
        gif.seek(5)
        last = np.asarray(gif.convert("RGB"))
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the paths move


def test_animation_rejects_unknown_formats_and_bad_frame_counts(bowl, runs, tmp_path):
    with pytest.raises(ValueError, match=r"path: .*must end in \.gif or \.mp4"):
        plots.animate(bowl, runs, tmp_path / "paths.avi")
    with pytest.raises(ValueError, match="frames: expected a positive frame count"):
        plots.animate(bowl, runs, tmp_path / "paths.gif", frames=0)
    assert list(tmp_path.iterdir()) == []


def test_animation_writes_mp4_through_ffmpeg_or_says_it_needs_it(bowl, runs, tmp_path):
    """Both branches are real: which one runs depends on whether this machine has ffmpeg."""
    from matplotlib import animation
    target = tmp_path / "paths.mp4"
    if not animation.writers.is_available("ffmpeg"):
        with pytest.raises(RuntimeError, match="needs ffmpeg on PATH; write a .gif instead"):
            plots.animate(bowl, runs, target)
        assert list(tmp_path.iterdir()) == []
        return
    plots.animate(bowl, runs, target, frames=4, resolution=RES, dpi=30)
    data = target.read_bytes()
    assert data[4:8] == b"ftyp"  # an ISO/MP4 container
    probe = shutil.which("ffprobe")
    if probe:
        frames = subprocess.run([probe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                 "stream=nb_read_frames", "-of", "csv=p=0", str(target)],
                                capture_output=True, text=True, check=True).stdout.strip()
        assert frames == "4"


# --- training figures ---

def make_history(epochs=4, scale=1.0, speed=1.0):
    """Columns of a training history with fastopt.train's field names."""
    epoch = np.arange(1, epochs + 1)
    return {
        "epoch": epoch.tolist(),
        "lr": [0.1] * epochs,
        "train_loss": (scale / epoch).tolist(),
        "train_accuracy": (1.0 - 0.05 / epoch).tolist(),
        "test_loss": (1.2 * scale / epoch).tolist(),
        "test_accuracy": (1.0 - 0.06 / epoch).tolist(),
        "epoch_time": [speed] * epochs,
        "total_time": (speed * epoch).tolist(),
    }


def records_of(columns):
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def test_history_plots_train_and_test_loss_and_accuracy(tmp_path):
    from fastopt.train import History
    columns = make_history()
    short_names = {"train_acc" if k == "train_accuracy" else "test_acc" if k == "test_accuracy" else k: v
                   for k, v in columns.items()}
    forms = (columns, records_of(columns), History(records_of(columns)), History(records_of(columns)).to_dict(),
             short_names)
    for form in forms:
        figure = plots.history(form, title="adam on mnist", dpi=DPI)
        loss_ax, acc_ax = figure.axes
        assert [line.get_gid() for line in loss_ax.get_lines()] == ["train_loss", "test_loss"]
        assert [line.get_gid() for line in acc_ax.get_lines()] == ["train_accuracy", "test_accuracy"]
        assert legend_labels(loss_ax) == legend_labels(acc_ax) == ["train", "test"]
        assert loss_ax.get_yscale() == "log" and acc_ax.get_ylabel() == "accuracy (%)"
        np.testing.assert_allclose(acc_ax.get_lines()[1].get_ydata(), np.array(columns["test_accuracy"]) * 100)
        np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), columns["epoch"])
        assert figure.get_suptitle() == "adam on mnist"
    check_saved(figure, tmp_path)
    with pytest.raises(ValueError, match="history: missing column"):
        plots.history({"epoch": [1], "train_loss": [1.0]})


def test_confusion_matrix_figure_annotates_every_cell(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2, 2, 0, 2])
    figure = plots.confusion(y_true, y_pred, dpi=DPI)
    (ax,), (colorbar,) = split_colorbars(figure)
    assert colorbar.get_ylabel() == "count"
    expected = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 3]])
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    cells = {(round(text.get_position()[1]), round(text.get_position()[0])): text.get_text() for text in ax.texts}
    assert cells == {(i, j): str(expected[i, j]) for i in range(3) for j in range(3)}
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted label", "true label")
    check_saved(figure, tmp_path)

    normalised = plots.confusion(y_true, y_pred, normalize=True, class_names=["cat", "dog", "eel"], dpi=DPI)
    (ax,), (colorbar,) = split_colorbars(normalised)
    assert [text.get_text() for text in ax.texts][3:6] == ["0.00", "0.67", "0.33"]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["cat", "dog", "eel"]
    assert colorbar.get_ylabel() == "fraction of true class"
    with pytest.raises(ValueError, match="class_names: expected 3 names, got 2"):
        plots.confusion(y_true, y_pred, class_names=["a", "b"])


@pytest.mark.parametrize("flat", [False, True])
def test_misclassified_grid_shows_each_wrong_prediction(flat, rng, tmp_path):
    images = rng.random((12, 28, 28))
    y_true = np.arange(12) % 10
    y_pred = y_true.copy()
    wrong = [1, 4, 5, 9, 11]
    y_pred[wrong] = (y_true[wrong] + 1) % 10
    figure = plots.misclassified(images.reshape(12, 784) if flat else images, y_true, y_pred, max_images=4,
                                 columns=3, dpi=DPI)
    assert len(figure.axes) == 4  # capped at max_images
    assert [ax.get_title() for ax in figure.axes] == [f"true {y_true[i]}, pred {y_pred[i]}" for i in wrong[:4]]
    np.testing.assert_array_equal(figure.axes[2].get_images()[0].get_array(), images[5])
    assert "5 of 12" in figure.get_suptitle()
    check_saved(figure, tmp_path)


def test_misclassified_handles_perfect_predictions_and_bad_shapes(rng):
    labels = np.arange(6)
    assert plots.misclassified(rng.random((6, 28, 28)), labels, labels, dpi=DPI).axes == []
    with pytest.raises(ValueError, match="images: rows of length 10 are not square images"):
        plots.misclassified(rng.random((6, 10)), labels, labels)
    with pytest.raises(ValueError, match="lengths differ"):
        plots.misclassified(rng.random((5, 28, 28)), labels, labels)


def test_optimizer_comparison_against_epochs_and_wall_time(tmp_path):
    histories = {"sgd": make_history(scale=2.0), "adam": make_history(speed=1.5), "my-opt": make_history(speed=0.5)}
    figure = plots.optimizer_comparison(histories, dpi=DPI)
    axes = figure.axes
    assert len(axes) == 4
    assert [ax.get_xlabel() for ax in axes] == ["epoch", "wall time (s)"] * 2
    assert [ax.get_ylabel() for ax in axes] == ["train loss"] * 2 + ["test accuracy (%)"] * 2
    for ax in axes:
        assert ax.get_legend() is None  # one legend for the figure: the same runs in every panel
        assert [line.get_color() for line in ax.get_lines()] == [plots.color_for(name) for name in histories]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["sgd", "adam", "my-opt"]
    np.testing.assert_array_equal(axes[1].get_lines()[1].get_xdata(), histories["adam"]["total_time"])
    check_saved(figure, tmp_path)
    with pytest.raises(ValueError, match="histories: expected a non-empty mapping"):
        plots.optimizer_comparison({})


def test_batch_size_tradeoff_against_epochs_and_wall_time(tmp_path):
    histories = {"stochastic (1)": make_history(scale=0.5, speed=20.0), "mini-batch (64)": make_history(speed=2.0),
                 "full batch (60000)": make_history(scale=3.0, speed=0.5)}
    figure = plots.batch_size_tradeoff(histories, dpi=DPI)
    by_epoch, by_time = figure.axes
    assert (by_epoch.get_xlabel(), by_time.get_xlabel()) == ("epoch", "wall time (s)")
    assert by_epoch.get_ylabel() == "train loss" and by_epoch.get_yscale() == "log"
    assert [t.get_text() for t in figure.legends[0].get_texts()] == list(histories)
    np.testing.assert_array_equal(by_time.get_lines()[0].get_xdata(), histories["stochastic (1)"]["total_time"])
    np.testing.assert_array_equal(by_time.get_lines()[2].get_ydata(), histories["full batch (60000)"]["train_loss"])
    check_saved(figure, tmp_path)


def test_colors_are_the_same_for_an_optimizer_in_every_figure(bowl, runs):
    contour = plots.contour(bowl, runs, resolution=RES, dpi=DPI)
    comparison = plots.optimizer_comparison({run.optimizer: make_history() for run in runs}, dpi=DPI)
    assert ([line.get_color() for line in path_lines(contour.axes[0])]
            == [line.get_color() for line in comparison.axes[0].get_lines()])
    assert len(set(plots.OPTIMIZER_COLORS.values())) == len(plots.OPTIMIZER_COLORS)
    assert plots.color_for("Adam") == plots.color_for("adam")
    assert plots.color_for("not-in-registry") == plots.color_for("not-in-registry")


def test_real_landscape_functions_and_trajectories(tmp_path):
    """The stand-ins above match fastopt.landscape: its functions and trajectories draw the same way."""
    from fastopt import landscape
    himmelblau = landscape.get("himmelblau")
    trajectories = [landscape.trajectory(himmelblau, name, steps=60) for name in ("sgd", "momentum", "adam")]
    figure = plots.contour(himmelblau, trajectories, resolution=RES, dpi=DPI)
    (ax,), _ = split_colorbars(figure)
    assert [line.get_label() for line in path_lines(ax)] == [f"{t.optimizer} lr={t.lr:g}" for t in trajectories]
    minima = [line for line in ax.get_lines() if line.get_gid() == "minima"]
    assert minima[0].get_xydata().shape == (4, 2)  # himmelblau's four global minima
    losses = plots.loss_curves(trajectories, himmelblau, dpi=DPI).axes[0]
    np.testing.assert_allclose(losses.get_lines()[2].get_ydata(),
                               np.maximum(trajectories[2].losses - himmelblau.min_value, 2.220446049250313e-16))
    check_saved(figure, tmp_path)


def test_contour_panels_draw_one_panel_per_run_titled_with_its_rate(bowl, runs, tmp_path):
    figure = plots.contour_panels(bowl, runs, columns=2, resolution=RES, dpi=DPI)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 3 and [ax.get_title() for ax in visible] == ["sgd lr=0.05", "momentum lr=0.02", "adam lr=0.1"]
    for ax, run in zip(visible, runs):
        (line,) = path_lines(ax)
        np.testing.assert_array_equal(np.column_stack(line.get_data()), run.path)
    check_saved(figure, tmp_path)
    with pytest.raises(ValueError, match="columns"):
        plots.contour_panels(bowl, runs, columns=0)
