"""Shampoo's and SOAP's view of a network's gradient: one matrix per dense layer, cut into blocks.

Each dense layer ``in -> out`` contributes the matrix :math:`M = [\\nabla W, \\nabla b]` (out x (in + 1)):
the bias is the appended column of the homogeneous input, as K-FAC treats it, so it shares the layer's
left (output-side) preconditioner. A side longer than ``max_dim`` is split into pieces of ``max_dim``
(the last one shorter), as Meta's distributed Shampoo blocks large dimensions; every block is then
preconditioned on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Block:
    """Rows ``[r0, r1)`` and columns ``[c0, c1)`` of layer ``layer``'s matrix [dW, db]."""

    layer: int
    r0: int
    r1: int
    c0: int
    c1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0


def _cuts(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


class LayerBlocks:
    """The blocks of a network's layers, and the moves between its flat gradient and them.

    Parameters
    ----------
    layers : list of tuple
        ``(in, out, weight offset, bias offset)`` per dense layer (``MLP._net.layers``).
    max_dim : int
        The longest side a block may have.
    """

    def __init__(self, layers, max_dim: int):
        self.layers = [tuple(int(v) for v in layer) for layer in layers]
        self.blocks = [Block(i, r0, r1, c0, c1) for i, (n_in, n_out, _, _) in enumerate(self.layers)
                       for r0, r1 in _cuts(n_out, max_dim) for c0, c1 in _cuts(n_in + 1, max_dim)]

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(rows, cols) of every block, in order."""
        return [b.shape for b in self.blocks]

    def layer_matrix(self, flat: np.ndarray, layer: int) -> np.ndarray:
        """A copy of layer ``layer``'s [dW, db] (out x (in + 1)) from a flat gradient."""
        n_in, n_out, w, b = self.layers[layer]
        return np.concatenate([flat[w:w + n_in * n_out].reshape(n_out, n_in), flat[b:b + n_out, None]], axis=1)

    def gather(self, flat: np.ndarray) -> list[np.ndarray]:
        """The blocks of a flat gradient, each a new C-contiguous array."""
        matrices = [self.layer_matrix(flat, i) for i in range(len(self.layers))]
        return [np.ascontiguousarray(matrices[b.layer][b.r0:b.r1, b.c0:b.c1]) for b in self.blocks]

    def scatter(self, blocks: list[np.ndarray], out: np.ndarray) -> np.ndarray:
        """Write blocks (as :meth:`gather` made them) back into the flat layout ``out``; returns ``out``."""
        for block, values in zip(self.blocks, blocks):
            n_in, n_out, w, b = self.layers[block.layer]
            weights = out[w:w + n_in * n_out].reshape(n_out, n_in)
            c1 = min(block.c1, n_in)
            weights[block.r0:block.r1, block.c0:c1] = values[:, :c1 - block.c0]
            if block.c1 == n_in + 1:  # the block holds the bias column
                out[b + block.r0:b + block.r1] = values[:, -1]
        return out
