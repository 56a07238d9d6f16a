"""Honest blend scores: nested evaluation over the shared folds.

For each fold, the blend (weights, scale factor and, for ``auto``, the method itself) is fitted on the other folds'
OOF rows only and scored on that fold. The in-sample score (fitted and scored on all rows) is reported next to it,
labelled optimistic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog_ml.blenders import METHODS, Blender, GridBlender, make_blender
from catalog_ml.metrics import smape

log = logging.getLogger(__name__)

AUTO_INNER_TRIALS = 100


@dataclass
class BlendEvaluation:
    """The honest (nested) and optimistic (in-sample) scores of one blend method, and its final fitted blender."""

    method: str
    final: Blender | None
    final_method: str
    nested_oof: np.ndarray
    nested_score: float
    in_sample_score: float
    fold_scores: pd.DataFrame
    chosen_per_fold: list[str] = field(default_factory=list)


def candidate_methods(n_models: int) -> list[str]:
    """Methods ``auto`` chooses among (grid only for few approaches)."""
    return [m for m in METHODS if m != "grid" or n_models <= GridBlender.max_models]


def fit_method(method: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray,
               options: dict) -> tuple[Blender, str]:
    """Fit ``method`` on these rows; ``auto`` first picks a method by nested CV within these rows' folds."""
    if method != "auto":
        return make_blender(method, **options).fit(predictions, y), method
    inner_options = {**options, "storage": None, "n_trials": min(int(options.get("n_trials", 300)),
                                                                  AUTO_INNER_TRIALS)}
    scores = {}
    for candidate in candidate_methods(predictions.shape[1]):
        inner = _nested(candidate, predictions, y, fold, inner_options)[0]
        scores[candidate] = smape(y, inner)
    chosen = min(scores, key=lambda m: (scores[m], list(scores).index(m)))
    log.debug("auto: inner scores %s -> %s", scores, chosen)
    return make_blender(chosen, **options).fit(predictions, y), chosen


def _nested(method: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray,
            options: dict) -> tuple[np.ndarray, list[str]]:
    return held_out_predictions(
        lambda rows: fit_method(method, predictions[rows], y[rows], fold[rows], options), predictions, fold)


def held_out_predictions(fit: Callable[[np.ndarray], tuple], predictions: np.ndarray, fold: np.ndarray
                         ) -> tuple[np.ndarray, list[str]]:
    """Each fold's rows blended by ``fit(rows fitted on)`` -> (blender, method name) fitted on the other folds
    only; returns the blended rows and the method chosen per fold."""
    blended, chosen = None, []
    for k in np.unique(fold):
        held_out = fold == k
        blender, name = fit(~held_out)
        part = blender.predict(predictions[held_out])
        if blended is None:
            blended = np.empty((len(fold), *part.shape[1:]))
        blended[held_out] = part
        chosen.append(name)
    return blended, chosen


def evaluate_blend(method: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray, names: tuple[str, ...],
                   options: dict | None = None) -> BlendEvaluation:
    """Nested score, in-sample score, per-fold table (each approach and the blend) and the blender fitted on all
    OOF rows (the one that predicts the test set)."""
    options = options or {}
    table = per_fold_table(predictions, y, fold, names)
    if predictions.shape[1] == 1:
        log.warning("only one approach (%s): the blend is that approach, unchanged", names[0])
        single = predictions[:, 0]
        table["blend"] = table[names[0]]
        score = smape(y, single)
        return BlendEvaluation("single", None, "single", single, score, score, table)
    nested_options = {**options, "storage": None}
    nested_oof, chosen = _nested(method, predictions, y, fold, nested_options)
    final, final_method = fit_method(method, predictions, y, fold, options)
    table["blend"] = [*(smape(y[fold == k], nested_oof[fold == k]) for k in np.unique(fold)),
                      smape(y, nested_oof)]
    return BlendEvaluation(method=method, final=final, final_method=final_method, nested_oof=nested_oof,
                           nested_score=smape(y, nested_oof), in_sample_score=smape(y, final.predict(predictions)),
                           fold_scores=table, chosen_per_fold=chosen)


def per_fold_table(predictions: np.ndarray, y: np.ndarray, fold: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    """SMAPE of every approach per fold and overall (rows: folds then 'all')."""
    folds = np.unique(fold)
    rows = {name: [*(smape(y[fold == k], predictions[fold == k, j]) for k in folds), smape(y, predictions[:, j])]
            for j, name in enumerate(names)}
    table = pd.DataFrame(rows)
    table.insert(0, "fold", [*map(str, folds), "all"])
    table.insert(1, "rows", [*(int((fold == k).sum()) for k in folds), len(y)])
    return table
