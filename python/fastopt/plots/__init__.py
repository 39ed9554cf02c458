"""Figures of fastopt's optimizers, headless (Agg) and saved as PNG and/or SVG.

Every figure function returns its ``matplotlib.figure.Figure`` and takes ``save=`` (a path or a
list of paths ending in .png or .svg) and ``dpi=``.  An optimizer has the same colour in every
figure (:func:`color_for`).  Needs the ``plot`` extra: ``pip install 'fastopt[plot]'``.
"""
from .style import OPTIMIZER_COLORS, color_for, save_figure  # first: clear error without matplotlib
from .animation import animate
from .landscape import contour, loss_curves, surface
from .comparisons import convex_vs_nonconvex, lr_sensitivity, momentum_vs_gd
from .curvature import curvature_along_path
from .second_order import evaluations_vs_loss, first_vs_second_order
from .training import batch_size_tradeoff, confusion, history, misclassified, optimizer_comparison

__all__ = ["OPTIMIZER_COLORS", "color_for", "save_figure", "contour", "surface", "loss_curves", "animate",
           "lr_sensitivity", "momentum_vs_gd", "convex_vs_nonconvex", "evaluations_vs_loss", "first_vs_second_order",
           "curvature_along_path",
           "history", "confusion", "misclassified", "optimizer_comparison", "batch_size_tradeoff"]
