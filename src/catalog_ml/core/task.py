"""The task: what a prediction is, how it is checked, stored, read back and scored.

Regression predicts one positive price per row; classification predicts one probability per class. The runner, its
run files, the run reader, the blender and its report, tracking and the submission writer ask the task instead of
branching on ``spec.task`` (AutoGluon's ``problem_type`` object, one path for every task).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd

from catalog_ml.core.metrics import LOWER_IS_BETTER, classification_scores, mae_log1p, metric_value, smape
from catalog_ml.data.classes import checked_proba, class_codes, predicted_labels, proba_frame, read_proba
from catalog_ml.data.loading import Dataset
from catalog_ml.data.spec import METRICS_BY_TASK
from catalog_ml.errors import CatalogError


class Task(ABC):
    """One kind of prediction. ``metrics`` lists what every score table reports, the default metric first."""

    name: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]

    @abstractmethod
    def target(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """The target column as the values predictions are scored against."""

    @abstractmethod
    def checked(self, pred: np.ndarray, n_rows: int, what: str) -> np.ndarray:
        """An approach's raw predictions for ``n_rows`` rows, checked (one clear error naming ``what``)."""

    @abstractmethod
    def frame(self, ids: np.ndarray, pred: np.ndarray, fold: int | None = None) -> pd.DataFrame:
        """Predictions as an output table: ``id[, fold], pred`` (and the class probabilities)."""

    @abstractmethod
    def values(self, frame: pd.DataFrame, source: str) -> np.ndarray:
        """The predictions stored in an output table (rows in the table's order), checked."""

    @abstractmethod
    def scores(self, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
        """Every metric of the task for one set of predictions."""

    def score(self, y: np.ndarray, pred: np.ndarray, metric: str) -> float:
        """One metric of the task."""
        return self.scores(y, pred)[metric]

    def loss(self, y: np.ndarray, pred: np.ndarray, metric: str) -> float:
        """``metric`` as a loss (lower is better), so that every search minimises."""
        value = self.score(y, pred, metric)
        return value if LOWER_IS_BETTER[metric] else -value

    @staticmethod
    def lower_is_better(metric: str) -> bool:
        return LOWER_IS_BETTER[metric]

    def best(self, names: tuple[str, ...] | list[str], overall: pd.Series, metric: str) -> str:
        """The name whose overall ``metric`` is best."""
        pick = min if LOWER_IS_BETTER[metric] else max
        return pick(names, key=lambda name: float(overall[name]))

    @abstractmethod
    def submission_values(self, pred: np.ndarray) -> np.ndarray:
        """What a submission holds for these predictions: prices, or the predicted labels."""


class RegressionTask(Task):
    """Positive prices, scored by SMAPE (and MAE on log1p)."""

    name = "regression"
    metrics = METRICS_BY_TASK["regression"]

    def target(self, values: pd.Series | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float)

    def checked(self, pred: np.ndarray, n_rows: int, what: str) -> np.ndarray:
        pred = np.asarray(pred, dtype=float).reshape(-1)
        if pred.shape != (n_rows,):
            raise CatalogError(f"{what}: {pred.shape[0]} predictions for {n_rows} rows")
        bad = ~np.isfinite(pred) | (pred <= 0)
        if bad.any():
            raise CatalogError(f"{what}: {int(bad.sum())} non-finite or non-positive predictions")
        return pred

    def frame(self, ids: np.ndarray, pred: np.ndarray, fold: int | None = None) -> pd.DataFrame:
        return pd.DataFrame({"id": ids} | ({"fold": fold} if fold is not None else {}) | {"pred": pred})

    def values(self, frame: pd.DataFrame, source: str) -> np.ndarray:
        if "pred" not in frame.columns:
            raise CatalogError(f"{source}: needs columns id and pred, found {', '.join(map(str, frame.columns))}")
        pred = frame["pred"].to_numpy(dtype=float)
        bad = ~np.isfinite(pred) | (pred <= 0)
        if bad.any():
            raise CatalogError(f"{source}: {int(bad.sum())} NaN, infinite or non-positive predictions "
                               f"(first id {frame['id'].to_numpy()[bad][0]!r})")
        return pred

    def scores(self, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
        return {"smape": smape(y, pred), "mae_log1p": mae_log1p(y, pred)}

    def score(self, y: np.ndarray, pred: np.ndarray, metric: str) -> float:
        return smape(y, pred) if metric == "smape" else self.scores(y, pred)[metric]

    def submission_values(self, pred: np.ndarray) -> np.ndarray:
        return np.asarray(pred, dtype=float)


class ClassificationTask(Task):
    """One probability per class (columns in ``classes`` order); labels are the arg-max class."""

    name = "classification"
    metrics = METRICS_BY_TASK["classification"]

    def __init__(self, classes: tuple[str, ...]) -> None:
        if not classes:
            raise CatalogError("a classification task needs the dataset's class list")
        self.classes = tuple(classes)

    def target(self, values: pd.Series | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=str)

    def checked(self, pred: np.ndarray, n_rows: int, what: str) -> np.ndarray:
        return checked_proba(pred, n_rows, len(self.classes), what)

    def frame(self, ids: np.ndarray, pred: np.ndarray, fold: int | None = None) -> pd.DataFrame:
        return proba_frame(ids, pred, self.classes, fold=fold)

    def values(self, frame: pd.DataFrame, source: str) -> np.ndarray:
        proba = read_proba(frame, self.classes, source)
        bad = ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1)
        if bad.any():
            raise CatalogError(f"{source}: {int(bad.sum())} rows of NaN or negative probabilities "
                               f"(first id {frame['id'].to_numpy()[bad][0]!r})")
        return proba

    def scores(self, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
        return classification_scores(np.asarray(y, dtype=str), pred, self.classes)

    def score(self, y: np.ndarray, pred: np.ndarray, metric: str) -> float:
        return metric_value(metric, np.asarray(y, dtype=str), pred, self.classes)

    def loss(self, y: np.ndarray, pred: np.ndarray, metric: str) -> float:
        if metric in ("log_loss", "accuracy"):  # direct: scikit-learn's input checks cost more than a blend search
            codes = class_codes(np.asarray(y, dtype=str), self.classes)
            if metric == "accuracy":
                return -float(np.mean(np.argmax(pred, axis=1) == codes))
            picked = pred[np.arange(len(codes)), codes] / pred.sum(axis=1)
            return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))
        return super().loss(y, pred, metric)

    def submission_values(self, pred: np.ndarray) -> np.ndarray:
        return predicted_labels(pred, self.classes)


def task_of(dataset: Dataset) -> Task:
    """The task of a loaded dataset (classification carries the dataset's class list)."""
    return task_named(dataset.spec.task, dataset.classes)


def task_named(name: str, classes: tuple[str, ...] = ()) -> Task:
    """The task called ``name`` (regression or classification)."""
    if name == RegressionTask.name:
        return RegressionTask()
    if name == ClassificationTask.name:
        return ClassificationTask(classes)
    raise CatalogError(f"unknown task '{name}' (use regression or classification)")
