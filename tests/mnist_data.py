"""Where the tests find the real MNIST (never downloaded): $FASTOPT_DATA, else ../shared/datasets/mnist."""
import os
from pathlib import Path

import pytest

MNIST_DIR = Path(os.environ.get("FASTOPT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist")
HAS_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"real MNIST not found in {MNIST_DIR}")
