"""The studies behind ``fastopt landscape``, ``compare``, ``batchsize`` and ``plot``, callable from Python.

::

    from fastopt import studies
    studies.landscape_study("rosenbrock", out="rosenbrock.png", animate="rosenbrock.gif")
    studies.second_order_study("rosenbrock", out_dir="docs/second_order")     # paths_ and evaluations_rosenbrock.png
    minima = studies.sharp_vs_flat_study(epochs=5, out="sharpness")            # Hessian at SGD/Adam minima
    result = studies.compare_study(["sgd", "adam"], epochs=3, out="report")   # result.report: report.html
    studies.redraw_history("report/runs/adam")                                # report/runs/adam/history.png

Each study runs its optimizers, writes its figures (and, for trainings, one run folder per
optimizer plus ``report.html``) and returns what it computed with the paths it wrote.  A run folder
holds ``config.json``, ``history.json``, ``history.csv`` and ``checkpoint.npz``, the same files as
``fastopt train`` writes, so the ``redraw_*`` functions read either.
"""
from .checks import ANIMATION_SUFFIXES, FIGURE_SUFFIXES, beside, check_lrs, check_optimizers, figure_path
from .landscapes import (LANDSCAPE_OPTIMIZERS, LR_FACTORS, MOMENTUM_OPTIMIZERS, LandscapeResult, convex_study,
                         landscape_study, lr_sensitivity_study, momentum_study)
from .logistic import LOGREG_METHODS, LogisticResult, logistic_study
from .redraw import redraw_comparison, redraw_confusion, redraw_history
from .second_order import (SECOND_ORDER_COMPANIONS, default_evaluation_optimizers, evaluations_study,
                           second_order_study)
from .sharpness import (SHARPNESS_SETUPS, MinimumCurvature, Setup, SharpnessTrace, edge_of_stability_study,
                        hessian_of_run, sharp_vs_flat_study, sharpness_during_gd)
from .trainings import (COMPARE_OPTIMIZERS, MNIST_LR, StudyResult, batch_label, batch_size_study, compare_study,
                        mnist_lr)

__all__ = ["FIGURE_SUFFIXES", "ANIMATION_SUFFIXES", "LANDSCAPE_OPTIMIZERS", "MOMENTUM_OPTIMIZERS", "LR_FACTORS",
           "MNIST_LR", "COMPARE_OPTIMIZERS", "LandscapeResult", "StudyResult", "figure_path", "beside",
           "check_optimizers", "check_lrs", "mnist_lr", "landscape_study", "lr_sensitivity_study", "momentum_study",
           "convex_study", "compare_study", "batch_label", "batch_size_study", "redraw_history", "redraw_comparison",
           "redraw_confusion", "SECOND_ORDER_COMPANIONS", "default_evaluation_optimizers", "evaluations_study",
           "second_order_study", "LOGREG_METHODS", "LogisticResult", "logistic_study", "SHARPNESS_SETUPS", "Setup",
           "MinimumCurvature", "SharpnessTrace", "hessian_of_run", "sharp_vs_flat_study", "sharpness_during_gd",
           "edge_of_stability_study"]
