"""Blending class probabilities: weighted mean (equal or Optuna-searched weights) and stacking, scored honestly.

Predictions are a (rows, runs, classes) array. Weighted blenders return the weighted mean of the runs' probability
rows; the stacker is a multinomial logistic regression on the runs' log probabilities. The nested score fits each
blender without the fold it scores, exactly as for price blends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from catalog_ml.blend_eval import held_out_predictions
from catalog_ml.blenders import optuna_simplex_weights
from catalog_ml.classes import class_codes
from catalog_ml.errors import CatalogError
from catalog_ml.metrics import CLASSIFICATION_METRICS, LOWER_IS_BETTER, classification_scores

log = logging.getLogger(__name__)

PROBA_METHODS = ("mean", "optuna", "stack")
AUTO_INNER_TRIALS = 100  # Optuna trials when ``auto`` compares methods inside a fold
EPSILON = 1e-6


def _score(objective: str, y: np.ndarray, proba: np.ndarray, classes: tuple[str, ...]) -> float:
    """The objective as a loss (lower is better), so every search minimises. Log-loss and accuracy are computed
    directly (scikit-learn's input checks cost more than the search itself)."""
    if objective in ("log_loss", "accuracy"):
        codes = class_codes(y, classes)
        if objective == "accuracy":
            return -float(np.mean(np.argmax(proba, axis=1) == codes))
        picked = proba[np.arange(len(codes)), codes] / proba.sum(axis=1)
        return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))
    value = CLASSIFICATION_METRICS[objective](y, proba, np.asarray(classes))
    return value if LOWER_IS_BETTER[objective] else -value


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
        return optuna_simplex_weights(
            lambda w: _score(self.objective, y, np.einsum("nrc,r->nc", proba, w), self.classes), proba.shape[1],
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


@dataclass
class ProbaBlendEvaluation:
    """Nested (honest) and in-sample scores of one probability blend, and the blender fitted on every OOF row."""

    method: str
    final: ProbaBlender
    final_method: str
    nested_oof: np.ndarray
    nested_scores: dict[str, float]
    in_sample_scores: dict[str, float]
    fold_scores: pd.DataFrame
    chosen_per_fold: list[str]


def _fit(method: str, proba: np.ndarray, y: np.ndarray, fold: np.ndarray, options: dict) -> tuple[ProbaBlender,
                                                                                                   str]:
    if method != "auto":
        return make_proba_blender(method, **options).fit(proba, y), method
    inner_options = {**options, "n_trials": min(options["n_trials"], AUTO_INNER_TRIALS)}
    inner = {m: _score(options["objective"], y, _nested(m, proba, y, fold, inner_options)[0], options["classes"])
             for m in PROBA_METHODS}
    chosen = min(inner, key=lambda m: (inner[m], PROBA_METHODS.index(m)))
    return make_proba_blender(chosen, **options).fit(proba, y), chosen


def _nested(method: str, proba: np.ndarray, y: np.ndarray, fold: np.ndarray, options: dict
            ) -> tuple[np.ndarray, list[str]]:
    return held_out_predictions(lambda rows: _fit(method, proba[rows], y[rows], fold[rows], options), proba, fold)


def evaluate_proba_blend(method: str, proba: np.ndarray, y: np.ndarray, fold: np.ndarray, names: tuple[str, ...],
                         classes: tuple[str, ...], objective: str = "log_loss", random_state: int = 0,
                         n_trials: int = 200) -> ProbaBlendEvaluation:
    """Nested scores (each fold blended by a blender fitted on the other folds), in-sample scores, a per-fold
    table of the objective for every run and the blend, and the final blender fitted on all OOF rows."""
    y = np.asarray(y, dtype=str)
    options = {"classes": classes, "objective": objective, "random_state": random_state, "n_trials": n_trials}
    nested_oof, chosen = _nested(method, proba, y, fold, options)
    final, final_method = _fit(method, proba, y, fold, options)
    folds = np.unique(fold)

    def column(p: np.ndarray) -> list[float]:
        return [*(classification_scores(y[fold == k], p[fold == k], classes)[objective] for k in folds),
                classification_scores(y, p, classes)[objective]]

    table = pd.DataFrame({name: column(proba[:, j]) for j, name in enumerate(names)})
    table["blend"] = column(nested_oof)
    table.insert(0, "fold", [*map(str, folds), "all"])
    table.insert(1, "rows", [*(int((fold == k).sum()) for k in folds), len(y)])
    return ProbaBlendEvaluation(method=method, final=final, final_method=final_method, nested_oof=nested_oof,
                                nested_scores=classification_scores(y, nested_oof, classes),
                                in_sample_scores=classification_scores(y, final.predict(proba), classes),
                                fold_scores=table, chosen_per_fold=chosen)
