"""fastopt.checkpoint: a real checkpoint of a tiny run, damaged in every way, is refused by one clear error
naming the file, before the model or the optimizer changes."""
import io
import json
import zipfile

import numpy as np
import pytest

import fastopt
from fastopt.checkpoint import CheckpointError, load_checkpoint, load_training_checkpoint, save_checkpoint
from fastopt.train import fit
from test_train import TRAIN, SoftmaxRegression

CORRUPT = "not a fastopt checkpoint or corrupt"


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint after 2 of 3 epochs of softmax regression with Adam."""
    path = tmp_path / "checkpoint.npz"
    model = SoftmaxRegression(20)
    fit(model, fastopt.Adam(model.params, lr=1e-2), TRAIN, epochs=2, batch_size=64, checkpoint=path, progress=False)
    return path


def resume(path):
    """Resume from ``path``; after a refusal the model and the optimizer state must be as they were."""
    model = SoftmaxRegression(20, seed=5)
    opt = fastopt.Adam(model.params, lr=1e-2)
    before = {k: v.copy() for k, v in model.params.items()}
    fresh = opt.state_dict()["state"]
    try:
        fit(model, opt, TRAIN, epochs=3, batch_size=64, checkpoint=path, resume=True, progress=False)
    finally:
        assert all(np.array_equal(before[k], model.params[k]) for k in before)
        assert opt.state_dict()["state"] == fresh  # no optimizer state was loaded


def rewrite_zip(path, drop=(), replace=None):
    """The checkpoint's zip again without the members ``drop`` and with ``replace`` (name -> bytes)."""
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist() if name not in drop}
    members.update(replace or {})
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("damage, detail", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "BadZipFile"),
    (lambda p: p.write_bytes(p.read_bytes()[:100]), "BadZipFile"),
    (lambda p: p.write_bytes(b""), "EOFError"),
    (lambda p: p.write_bytes(b"random bytes, not a zip"), ""),
    (lambda p: p.write_bytes(npy(np.zeros(3))), "a single array, not an .npz archive"),
    (lambda p: rewrite_zip(p, drop=["array0.npy"]), "array 'array0' is missing"),
    (lambda p: rewrite_zip(p, drop=["__meta__.npy"]), "KeyError"),
    (lambda p: rewrite_zip(p, replace={"__meta__.npy": npy(np.array("{not json"))}), "JSONDecodeError"),
    (lambda p: rewrite_zip(p, replace={"__meta__.npy": npy(np.array("[1, 2]"))}), "its metadata holds no state"),
    (lambda p: rewrite_zip(p, replace={"__meta__.npy": npy(np.array(json.dumps(
        {"format": "fastopt-checkpoint-1", "state": {"__tuple__": 5}})))}), "malformed metadata"),
    (lambda p: rewrite_zip(p, replace={"array0.npy": b"\x93NUMPY garbage"}), "ValueError"),
])
def test_damaged_files_are_refused_naming_the_file(checkpoint, damage, detail):
    damage(checkpoint)
    with pytest.raises(CheckpointError) as e:
        resume(checkpoint)
    assert str(e.value).startswith(f"checkpoint {checkpoint}: {CORRUPT} (") and detail in str(e.value)


def edit_state(path, edit):
    state = load_checkpoint(path)
    edit(state)
    save_checkpoint(path, state)


def set_(key, value):
    return lambda state: state.__setitem__(key, value)


@pytest.mark.parametrize("edit, detail", [
    *[(lambda s, k=k: s.pop(k), f"no {k} in it") for k in ("epoch", "config", "params", "optimizer", "rng", "history")],
    (set_("epoch", "2"), "epoch '2' is not a count of epochs"),
    (set_("epoch", True), "epoch True is not a count"),
    (set_("config", {"batch_size": 64, "seed": 0}), "lacks the counts batch_size, seed, n_train"),
    (set_("params", [1, 2]), "params is not a dict of arrays"),
    (lambda s: s["params"].__setitem__("0.bias", [0.0] * 10), "param '0.bias' is not a float array"),
    (lambda s: s["params"].__setitem__("0.bias", np.zeros(10, np.int32)), "param '0.bias' is not a float array"),
    (set_("optimizer", "Adam"), "optimizer is not an optimizer state_dict"),
    (set_("rng", "pcg"), "rng is not a generator state"),
    (lambda s: s["rng"].pop("state"), "rng is not a generator state (KeyError"),
    (lambda s: s["rng"].__setitem__("bit_generator", "MT19937"), "rng is not a generator state (ValueError"),
    (set_("history", {"records": None}), "history holds no list of records"),
    (lambda s: s["history"]["records"].pop(), "epoch 2 but 1 history records"),
    (set_("epoch", 3), "epoch 3 but 2 history records"),
    (lambda s: s["history"]["records"][0].__setitem__("epoch", 2), "history records of epochs [2, 2], expected 1 to 2"),
    (set_("dropout_calls", -1), "dropout_calls -1 is not a count"),
    (set_("run", [1]), "run is not a dict of settings"),
    (lambda s: s["optimizer"]["state"][0]["exp_avg"].__setitem__(0, np.zeros(3, np.float32)),
     "its optimizer state does not load into Adam: state_dict: state 'exp_avg' of group 0 does not match"),
    (lambda s: s["optimizer"].pop("param_groups"), "its optimizer state does not load into Adam: 'param_groups'"),
    (lambda s: s["optimizer"].__setitem__("optimizer", "SGD"), "made by optimizer 'SGD', cannot load into Adam"),
])
def test_damaged_contents_are_refused_naming_the_file(checkpoint, edit, detail):
    edit_state(checkpoint, edit)
    with pytest.raises(CheckpointError) as e:
        resume(checkpoint)
    assert str(e.value).startswith(f"checkpoint {checkpoint}: {CORRUPT} (") and detail in str(e.value)


@pytest.mark.parametrize("array, shown", [
    (np.zeros((10, 21), np.float32), "'0.weight': 'float32(10, 21)'"),
    (np.zeros((10, 20), np.float64), "'0.weight': 'float64(10, 20)'"),
])
def test_params_of_another_shape_or_dtype_are_refused(checkpoint, array, shown):
    edit_state(checkpoint, lambda s: s["params"].__setitem__("0.weight", array))
    with pytest.raises(CheckpointError, match="do not match the model's") as e:
        resume(checkpoint)
    assert str(e.value).startswith(f"checkpoint {checkpoint}: its params") and shown in str(e.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_params_that_are_not_finite_are_refused_naming_the_param(checkpoint, bad):
    edit_state(checkpoint, lambda s: s["params"]["0.bias"].__setitem__(3, bad))
    with pytest.raises(CheckpointError, match=f"checkpoint {checkpoint}: param '0.bias' holds NaN or Inf"):
        resume(checkpoint)


def test_an_intact_checkpoint_loads_and_resumes(checkpoint):
    state = load_training_checkpoint(checkpoint)
    assert state["epoch"] == 2 and len(state["history"]["records"]) == 2
    model = SoftmaxRegression(20, seed=5)
    history = fit(model, fastopt.Adam(model.params, lr=1e-2), TRAIN, epochs=3, batch_size=64, checkpoint=checkpoint,
                  resume=True, progress=False)
    assert history["epoch"] == [1, 2, 3]


def test_the_run_settings_travel_with_the_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    model = SoftmaxRegression(20)
    run = {"optimizer": "adam", "hyper": {"betas": (0.9, 0.98)}, "hidden": [32]}
    fit(model, fastopt.Adam(model.params), TRAIN, epochs=1, batch_size=100, checkpoint=path, progress=False, run=run)
    assert load_training_checkpoint(path)["run"] == run
