"""Shared by test_studies and test_cli_studies: real MNIST loaded once, the network, and file checks."""
import importlib.util
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastopt import datasets, studies
from test_train import SoftmaxRegression

MNIST_DIR = Path(os.environ.get("FASTOPT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist")
HAS_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"real MNIST not found in {MNIST_DIR}")
HAS_NN = importlib.util.find_spec("fastopt.nn") is not None


def use_network(monkeypatch, mnist) -> None:
    """The studies train fastopt.nn.MLP when it is built, else NumPy softmax regression (same interface);
    every dataset load returns the already loaded MNIST."""
    if not HAS_NN:
        monkeypatch.setattr(studies, "make_model", lambda config: SoftmaxRegression(
            config.get("inputs", 784), config.get("classes", 10), seed=config.get("seed", 0)))
    monkeypatch.setattr(datasets, "load", lambda name, path=None, progress=True: mnist)


def load_mnist():
    return datasets.load_mnist(MNIST_DIR, download_missing=False)


def image(path) -> np.ndarray:
    """The decoded image (an RGB array), after checking it is a real, non-blank picture."""
    with Image.open(path) as picture:
        picture.load()
        pixels = np.asarray(picture.convert("RGB"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 10  # not a blank canvas
    return pixels


def gif_frames(path) -> int:
    with Image.open(path) as picture:
        assert picture.format == "GIF"
        return picture.n_frames


def parse_report(path) -> list[str]:
    """The image sources of report.html, after parsing it strictly as XML (it is XHTML-compatible)."""
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    root = ElementTree.fromstring(text.split("\n", 1)[1])
    return [img.get("src") for img in root.iter("img")]


def report_table(path) -> list[list[str]]:
    root = ElementTree.fromstring(Path(path).read_text(encoding="utf-8").split("\n", 1)[1])
    return [[cell.text for cell in row] for row in root.iter("tr")]
