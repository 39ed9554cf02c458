"""Optuna, imported with the message that names the extra to install when it is missing."""
try:
    import optuna
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("fastopt.tune needs Optuna: pip install 'fastopt[tune]'") from e

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial would drown the progress bar

__all__ = ["optuna"]
