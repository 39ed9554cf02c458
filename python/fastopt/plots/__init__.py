"""Figures of fastopt's optimizers, headless (Agg) and saved as PNG and/or SVG.

Every figure function returns its ``matplotlib.figure.Figure`` and takes ``save=`` (a path or a
list of paths ending in .png or .svg) and ``dpi=``.  An optimizer has the same colour in every
figure (:func:`color_for`).  Needs the ``plot`` extra: ``pip install 'fastopt[plot]'``.
"""
# isort: skip_file
# .style first: it gives the clear error when matplotlib is missing.
from .style import OPTIMIZER_COLORS, color_for, save_figure
from .animation import animate
from .landscape import contour, loss_curves, surface
from .landscape_panels import contour_panels
from .comparisons import convex_vs_nonconvex, lr_sensitivity, momentum_vs_gd
from .curvature import curvature_along_path
from .loss_surface import loss_contour, loss_line, loss_surface_3d
from .spectrum import sharp_vs_flat, sharpness_during_training, spectral_density
from .second_order import evaluations_vs_loss, first_vs_second_order
from .training import batch_size_tradeoff, confusion, history, misclassified, optimizer_comparison
from .schedules import lr_find, schedule_curves, schedule_trainings

__all__ = [
           "OPTIMIZER_COLORS",
           "animate",
           "batch_size_tradeoff",
           "color_for",
           "confusion",
           "contour",
           "contour_panels",
           "convex_vs_nonconvex",
           "curvature_along_path",
           "evaluations_vs_loss",
           "first_vs_second_order",
           "history",
           "loss_contour",
           "loss_curves",
           "loss_line",
           "loss_surface_3d",
           "lr_find",
           "lr_sensitivity",
           "misclassified",
           "momentum_vs_gd",
           "optimizer_comparison",
           "save_figure",
           "schedule_curves",
           "schedule_trainings",
           "sharp_vs_flat",
           "sharpness_during_training",
           "spectral_density",
           "surface",
]
