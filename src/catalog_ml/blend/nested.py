"""Honest blend scores: nested evaluation over the shared folds, for every task.

For each fold, the blend (weights, scale factor and, for ``auto``, the method itself) is fitted on the other folds'
OOF rows only and scored on that fold. The in-sample score (fitted and scored on all rows) is reported next to it,
labelled optimistic. Price blends minimise SMAPE; probability blends minimise the chosen objective (log-loss by
default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from catalog_ml.blend.blenders import DEFAULT_OPTIONS, METHODS, GridBlender, make_blender
from catalog_ml.blend.proba_blenders import PROBA_METHODS, make_proba_blender
from catalog_ml.core.task import ClassificationTask, RegressionTask, Task

log = logging.getLogger(__name__)

AUTO_INNER_TRIALS = 100  # Optuna trials when ``auto`` compares methods inside a fold
SINGLE = "single"


@dataclass
class BlendEvaluation:
    """The honest (nested) and optimistic (in-sample) scores of one blend method, and its final fitted blender.
    ``objective`` is the metric the blend minimises and the per-fold table reports."""

    method: str
    final: Any
    final_method: str
    objective: str
    nested_oof: np.ndarray
    nested_scores: dict[str, float]
    in_sample_scores: dict[str, float]
    fold_scores: pd.DataFrame
    chosen_per_fold: list[str] = field(default_factory=list)

    @property
    def nested_score(self) -> float:
        return self.nested_scores[self.objective]

    @property
    def in_sample_score(self) -> float:
        return self.in_sample_scores[self.objective]

    def predict(self, predictions: np.ndarray) -> np.ndarray:
        """The final blend of a (rows, runs[, classes]) array, e.g. the runs' test predictions."""
        return predictions[:, 0] if self.final is None else self.final.predict(predictions)


def blend_objective(task: Task, options: dict) -> str:
    """What the blend minimises: SMAPE for prices; for probabilities ``options['objective']`` (log-loss)."""
    return options.get("objective", "log_loss") if isinstance(task, ClassificationTask) else "smape"


def methods_of(task: Task) -> list[str]:
    """Every blend method of the task, besides ``auto``."""
    return list(PROBA_METHODS) if isinstance(task, ClassificationTask) else list(METHODS)


def candidate_methods(task: Task, n_models: int) -> list[str]:
    """Methods ``auto`` chooses among (grid only for few approaches)."""
    return [m for m in methods_of(task) if m != "grid" or n_models <= GridBlender.max_models]


def new_blender(task: Task, method: str, options: dict) -> Any:
    """An unfitted blender of ``method`` for the task's predictions."""
    if isinstance(task, ClassificationTask):
        return make_proba_blender(method, task.classes, blend_objective(task, options),
                                  int(options.get("random_state", 0)), int(options.get("n_trials", 200)))
    return make_blender(method, **{k: v for k, v in options.items() if k in DEFAULT_OPTIONS})


def fit_method(task: Task, method: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray,
               options: dict) -> tuple[Any, str]:
    """Fit ``method`` on these rows; ``auto`` first picks a method by nested CV within these rows' folds."""
    if method != "auto":
        return new_blender(task, method, options).fit(predictions, y), method
    inner_options = {**options, "storage": None,
                     "n_trials": min(int(options.get("n_trials", 300)), AUTO_INNER_TRIALS)}
    objective = blend_objective(task, options)
    candidates = candidate_methods(task, predictions.shape[1])
    scores = {candidate: task.loss(y, _nested(task, candidate, predictions, y, fold, inner_options)[0], objective)
              for candidate in candidates}
    chosen = min(scores, key=lambda m: (scores[m], candidates.index(m)))
    log.debug("auto: inner scores %s -> %s", scores, chosen)
    return new_blender(task, chosen, options).fit(predictions, y), chosen


def _nested(task: Task, method: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray,
            options: dict) -> tuple[np.ndarray, list[str]]:
    return held_out_predictions(
        lambda rows: fit_method(task, method, predictions[rows], y[rows], fold[rows], options), predictions, fold)


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
                   options: dict | None = None, task: Task | None = None) -> BlendEvaluation:
    """Nested scores, in-sample scores, the per-fold table (each approach and the blend) and the blender fitted on
    all OOF rows (the one that predicts the test set). ``task`` defaults to price regression."""
    task = task or RegressionTask()
    options = options or {}
    objective = blend_objective(task, options)
    table = per_fold_table(task, objective, predictions, y, fold, names)
    if predictions.shape[1] == 1:
        log.warning("only one approach (%s): the blend is that approach, unchanged", names[0])
        single = predictions[:, 0]
        table["blend"] = table[names[0]]
        scores = task.scores(y, single)
        return BlendEvaluation(SINGLE, None, SINGLE, objective, single, scores, scores, table)
    nested_oof, chosen = _nested(task, method, predictions, y, fold, {**options, "storage": None})
    final, final_method = fit_method(task, method, predictions, y, fold, options)
    table["blend"] = _column(task, objective, nested_oof, y, fold)
    return BlendEvaluation(method=method, final=final, final_method=final_method, objective=objective,
                           nested_oof=nested_oof, nested_scores=task.scores(y, nested_oof),
                           in_sample_scores=task.scores(y, final.predict(predictions)), fold_scores=table,
                           chosen_per_fold=chosen)


def per_fold_table(task: Task, metric: str, predictions: np.ndarray, y: np.ndarray, fold: np.ndarray,
                   names: tuple[str, ...]) -> pd.DataFrame:
    """``metric`` of every approach per fold and overall (rows: folds then 'all')."""
    folds = np.unique(fold)
    table = pd.DataFrame({name: _column(task, metric, predictions[:, j], y, fold) for j, name in enumerate(names)})
    table.insert(0, "fold", [*map(str, folds), "all"])
    table.insert(1, "rows", [*(int((fold == k).sum()) for k in folds), len(y)])
    return table


def _column(task: Task, metric: str, pred: np.ndarray, y: np.ndarray, fold: np.ndarray) -> list[float]:
    return [*(task.score(y[fold == k], pred[fold == k], metric) for k in np.unique(fold)),
            task.score(y, pred, metric)]
