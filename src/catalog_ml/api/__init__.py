"""The Python API: ``Predictor`` (fit, predict, predict_proba, leaderboard, save, load) over the same runner and
blender as the command line, and fitted runs and blends applied to new tables (``api.predicting``)."""

from typing import Any

import catalog_ml.nn  # noqa: F401  (saved models may hold torch modules: their codec registers on import)

__all__ = ["Predictor"]


def __getattr__(name: str) -> Any:
    if name == "Predictor":  # imported on first use: the command line's ``predict`` needs none of it
        from catalog_ml.api.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'catalog_ml.api' has no attribute {name!r}")
