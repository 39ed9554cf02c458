"""`fastopt demo`: each challenge demo (quick) writes its figures and summary, and its claim holds in its numbers."""
import json

import numpy as np
import pytest

from fastopt import cli, demos
from mnist_data import needs_mnist
from study_helpers import image


def run_demo(tmp_path_factory, name, **options):
    out = tmp_path_factory.mktemp(name)
    result = demos.run(name, out, quick=True, **options)
    for path in result.files:
        assert path.exists() and path.stat().st_size > 0
        if path.suffix == ".png":
            image(path)
    saved = json.loads((out / "result.json").read_text())
    assert saved["name"] == name and saved["figures"] and saved["numbers"] == json.loads(json.dumps(result.numbers))
    assert result.title in (out / "summary.md").read_text()
    return result


@needs_mnist
def test_vanishing_gradients_shrink_towards_the_input_but_not_with_relu_and_he(tmp_path_factory, served_mnist):
    numbers = run_demo(tmp_path_factory, "vanishing-gradients").numbers
    for label in ("sigmoid, N(0, 0.01²)", "sigmoid, Xavier", "tanh, N(0, 0.01²)"):
        assert numbers[label]["first_over_last_at_init"] < 1e-3, label  # orders of magnitude smaller at the input
        assert len(numbers[label]["norms_at_init"]) == 10
    assert 0.1 < numbers["ReLU, He"]["first_over_last_at_init"] < 10
    assert 0.1 < numbers["ReLU, He"]["first_over_last_at_end"] < 10


@needs_mnist
def test_exploding_gradients_grow_towards_the_input_and_diverge(tmp_path_factory, served_mnist):
    numbers = run_demo(tmp_path_factory, "exploding-gradients").numbers
    assert numbers["ReLU, N(0, 0.25²)"]["first_over_last_at_init"] > 100
    assert not np.isfinite(numbers["ReLU, N(0, 0.25²)"]["final_loss"])  # the steps blew up
    assert numbers["tanh, N(0, 1)"]["first_over_last_at_init"] > 100
    assert 0.1 < numbers["ReLU, He"]["first_over_last_at_init"] < 10 and np.isfinite(numbers["ReLU, He"]["final_loss"])


def test_layer_gradient_norms_are_the_bias_gradients_norms():
    model = demos.gradient_flow.MLP((6, 5, 4, 3), activation="tanh", seed=1)
    x, y = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32), np.arange(8) % 3
    norms = demos.layer_gradient_norms(model, x, y)
    model.forward_backward(x, y)
    np.testing.assert_allclose(norms, [np.linalg.norm(model.grads[f"{i}.bias"]) for i in range(3)])


def test_saddle_point_escapes(tmp_path_factory):
    numbers = run_demo(tmp_path_factory, "saddle-point").numbers
    saddle, monkey = numbers["saddle"], numbers["monkey_saddle"]
    plain = saddle["gradient descent"]
    # Gradient descent stalls longest; noise and momentum leave sooner; saddle-free Newton at once.
    assert plain is not None and saddle["gradient descent, noise σ=0.01"] < plain and saddle["momentum 0.9"] < plain
    assert saddle["saddle-free Newton"] <= 5 and monkey["saddle-free Newton"] is not None
    assert monkey["gradient descent"] is None  # the degenerate saddle holds plain gradient descent
    assert saddle["Newton (pure)"] is None and monkey["Newton (pure)"] is None
    assert max(numbers["newton_distance_to_saddle"].values()) < 1e-8  # pure Newton converged onto the saddles


def test_pure_newton_jumps_onto_the_quadratic_saddle_in_one_step():
    path = demos.saddle.newton_path(demos.saddle.landscape.get("saddle"), [0.7, -0.3], 3)
    np.testing.assert_allclose(path[1], [0.0, 0.0], atol=1e-15)


def test_plateau_deep_network_learns_mode_by_mode(tmp_path_factory):
    numbers = run_demo(tmp_path_factory, "plateau").numbers
    deep, shallow = numbers["3_layers"], numbers["1_layers"]
    assert deep["early_drop"] < 0.1 < 0.5 < shallow["early_drop"]  # a plateau against an immediate fall
    times = deep["half_times"]
    assert None not in times and times == sorted(times) and times[-1] > 5 * times[0]  # strongest mode first
    assert max(shallow["half_times"]) < times[0]


def test_plateau_refuses_a_shallow_deep_network(tmp_path):
    with pytest.raises(ValueError, match="depth"):
        demos.plateau_demo(tmp_path, depth=1)


@needs_mnist
def test_symmetric_initialisations_keep_hidden_units_identical(tmp_path_factory, served_mnist):
    numbers = run_demo(tmp_path_factory, "symmetry").numbers
    assert numbers["zeros"]["final_spread"] == 0.0
    assert numbers["constant 0.01"]["final_spread"] < 1e-6
    assert numbers["He (random)"]["final_spread"] > 1e-2
    assert numbers["He (random)"]["final_accuracy"] > numbers["constant 0.01"]["final_accuracy"] + 0.3


def test_convex_every_start_reaches_the_minimum_but_not_on_rastrigin(tmp_path_factory):
    numbers = run_demo(tmp_path_factory, "convex").numbers
    assert numbers["quadratic"]["global_share"] == 1.0
    assert numbers["rastrigin"]["global_share"] < 0.5 and numbers["rastrigin"]["distinct_ends"] > 10


class GaussianGradients:
    """A stand-in model whose batch gradient is the mean of the batch's rows: G = mu, tr(Sigma) = dim."""

    def __init__(self, dim):
        self.flat_grads = np.zeros(dim)

    def forward_backward(self, x, y, train=True):
        self.flat_grads[...] = x.mean(axis=0)


class Rows:
    def __init__(self, x):
        self.x, self.y = x, np.zeros(len(x), dtype=np.int64)

    def __len__(self):
        return len(self.x)


def test_noise_scale_estimates_trace_over_squared_gradient():
    rng = np.random.default_rng(0)
    dim, mu = 50, np.full(50, 0.2)  # ||G||^2 = 2, tr(Sigma) = 50: B_simple = 25
    rows = Rows(mu + rng.standard_normal((200000, dim)))
    scale = demos.noise_scale(GaussianGradients(dim), rows, 8, 128, 400, rng)
    assert scale["grad_sq"] == pytest.approx(2.0, rel=0.1)
    assert scale["trace"] == pytest.approx(50.0, rel=0.1)
    assert scale["b_simple"] == pytest.approx(25.0, rel=0.15)
    with pytest.raises(ValueError, match="small, big"):
        demos.noise_scale(GaussianGradients(dim), rows, 128, 8, 4, rng)


@needs_mnist
def test_batch_noise_scale_and_steps_to_target(tmp_path_factory, served_mnist):
    numbers = run_demo(tmp_path_factory, "batch-noise").numbers
    scales = list(numbers["noise_scale"].values())
    assert all(np.isfinite(s) and s > 0 for s in scales)
    steps = [numbers["steps"][b] for b in ("16", "128", "1024")]
    assert None not in steps and steps[0] > steps[1] > steps[2]  # bigger batches need fewer steps...
    assert steps[0] * 16 < steps[2] * 1024  # ...but more samples
    assert 0 < numbers["b_crit"] < 1e5 and numbers["s_min"] > 0


def test_cli_lists_the_demos(capsys):
    assert cli.main(["demo", "--list"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in demos.DEMOS)


def test_cli_runs_a_demo(tmp_path, capsys):
    assert cli.main(["demo", "plateau", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "plateau" in printed and f"wrote {tmp_path / 'plateaus.png'}" in printed
    assert (tmp_path / "summary.md").exists()


def test_cli_needs_a_demo_name(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo"])
    assert e.value.code == 2 and "fastopt demo --list" in capsys.readouterr().err


def test_run_refuses_an_unknown_demo(tmp_path):
    with pytest.raises(ValueError, match="unknown demo 'nope'"):
        demos.run("nope", tmp_path)
