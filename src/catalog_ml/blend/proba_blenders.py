"""Blenders of class probabilities: weighted mean (equal or Optuna-searched weights) and stacking.

Predictions are a (rows, runs, classes) array. Weighted blenders return the weighted mean of the runs' probability
rows; the stacker is a multinomial logistic regression on the runs' log probabilities. ``blend.nested`` scores them
honestly, exactly as the price blenders.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from catalog_ml.blend.blenders import optuna_simplex_weights
from catalog_ml.core.task import ClassificationTask
from catalog_ml.data.classes import class_codes
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

PROBA_METHODS = ("mean", "optuna", "stack")
EPSILON = 1e-6


class ProbaBlender:
    """Base: ``fit(P, y)`` then ``predict(P)``; P is (rows, runs, classes), y the class labels."""

    name = "proba"

    def __init__(self, classes: tuple[str, ...], objective: str = "log_loss", random_state: int = 0) -> None:
        self.classes = classes
        self.objective = objective
        self.random_state = random_state

    def fit(self, proba: np.ndarray, y: np.ndarray) -> ProbaBlender:
        self.weights_ = self._fit_weights(proba, np.asarray(y, dtype=str))
        return self

    def predict(self, proba: np.ndarray) -> np.ndarray:
        return np.einsum("nrc,r->nc", proba, self.weights_)

    def _fit_weights(self, proba: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.full(proba.shape[1], 1.0 / proba.shape[1])


class OptunaProbaBlender(ProbaBlender):
    """Optuna TPE search over simplex weights minimising the objective (log-loss by default)."""

    name = "optuna"

    def __init__(self, classes: tuple[str, ...], objective: str = "log_loss", random_state: int = 0,
                 n_trials: int = 200) -> None:
        super().__init__(classes, objective, random_state)
        self.n_trials = n_trials

    def _fit_weights(self, proba: np.ndarray, y: np.ndarray) -> np.ndarray:
        task = ClassificationTask(self.classes)
        return optuna_simplex_weights(
            lambda w: task.loss(y, np.einsum("nrc,r->nc", proba, w), self.objective), proba.shape[1],
            self.n_trials, self.random_state)[0]


class StackProbaBlender(ProbaBlender):
    """Multinomial logistic regression on the runs' log probabilities (level-2 model)."""

    name = "stack"

    def fit(self, proba: np.ndarray, y: np.ndarray) -> StackProbaBlender:
        codes = class_codes(np.asarray(y, dtype=str), self.classes)
        self.present_ = np.unique(codes)
        self.model_ = LogisticRegression(C=1.0, max_iter=500, random_state=self.random_state)
        self.model_.fit(self._features(proba), codes)
        self.weights_ = np.full(proba.shape[1], np.nan)  # no weights: reported as such
        return self

    def predict(self, proba: np.ndarray) -> np.ndarray:
        full = np.zeros((proba.shape[0], len(self.classes)))
        full[:, self.model_.classes_] = self.model_.predict_proba(self._features(proba))
        return full

    @staticmethod
    def _features(proba: np.ndarray) -> np.ndarray:
        return np.log(np.clip(proba, EPSILON, 1.0)).reshape(proba.shape[0], -1)


def make_proba_blender(method: str, classes: tuple[str, ...], objective: str, random_state: int,
                       n_trials: int) -> ProbaBlender:
    if method == "mean":
        return ProbaBlender(classes, objective, random_state)
    if method == "optuna":
        return OptunaProbaBlender(classes, objective, random_state, n_trials)
    if method == "stack":
        return StackProbaBlender(classes, objective, random_state)
    raise CatalogError(f"unknown blend method {method!r} for classification (use one of auto, "
                       f"{', '.join(PROBA_METHODS)})")
