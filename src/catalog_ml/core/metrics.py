"""Metrics: SMAPE exactly as the competition defines it, MAE on log1p, and classification metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.metrics import log_loss as sklearn_log_loss


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Symmetric mean absolute percentage error on the 0-200 scale.

    mean(|pred - true| / ((|true| + |pred|) / 2)) * 100, where a pair of zeros counts as 0 (a perfect prediction).
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: y_true {y_true.shape} vs y_pred {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("smape of an empty array is undefined")
    return float(smape_columns(y_true.reshape(-1), y_pred.reshape(-1, 1))[0])


def smape_columns(y_true: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """SMAPE of every column of a (rows, candidates) matrix against ``y_true``, in one vectorised pass."""
    return row_smape(np.asarray(y_true, dtype=float)[:, None], predictions).mean(axis=0)


def row_smape(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """SMAPE of each prediction on its own (0-200; a pair of zeros counts as 0), broadcasting like numpy."""
    y_true, y_pred = np.broadcast_arrays(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))
    denominator = (np.abs(y_true) + np.abs(y_pred)) / 2.0
    ratio = np.divide(np.abs(y_pred - y_true), denominator, out=np.zeros(y_true.shape), where=denominator != 0)
    return ratio * 100.0


def mae_log1p(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error between log1p(true) and log1p(pred) (negative values clipped to 0 first)."""
    y_true = np.log1p(np.clip(np.asarray(y_true, dtype=float), 0, None))
    y_pred = np.log1p(np.clip(np.asarray(y_pred, dtype=float), 0, None))
    return float(np.mean(np.abs(y_true - y_pred)))


def accuracy(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Accuracy of the arg-max class of a probability matrix (columns ordered as ``classes``)."""
    return float(accuracy_score(y_true, np.asarray(classes)[np.argmax(proba, axis=1)]))


def macro_f1(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Macro-averaged F1 of the arg-max class."""
    predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
    return float(f1_score(y_true, predicted, average="macro", labels=classes, zero_division=0))


def weighted_f1(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Support-weighted F1 of the arg-max class."""
    predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
    return float(f1_score(y_true, predicted, average="weighted", labels=classes, zero_division=0))


def log_loss(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Multi-class log-loss with probabilities clipped away from 0 and rows renormalised."""
    proba = np.clip(np.asarray(proba, dtype=float), 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return float(sklearn_log_loss(y_true, proba, labels=classes))


REGRESSION_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"smape": smape, "mae_log1p": mae_log1p}
CLASSIFICATION_METRICS = {"accuracy": accuracy, "macro_f1": macro_f1, "weighted_f1": weighted_f1,
                          "log_loss": log_loss}
LOWER_IS_BETTER = {"smape": True, "mae_log1p": True, "accuracy": False, "macro_f1": False, "weighted_f1": False,
                   "log_loss": True}


def classification_scores(y_true: np.ndarray, proba: np.ndarray, classes: tuple[str, ...]) -> dict[str, float]:
    """Every classification metric of one probability matrix."""
    labels = np.asarray(classes)
    return {name: metric(np.asarray(y_true, dtype=str), proba, labels)
            for name, metric in CLASSIFICATION_METRICS.items()}


def metric_value(name: str, y_true: np.ndarray, proba: np.ndarray, classes: tuple[str, ...]) -> float:
    """One classification metric of a probability matrix."""
    return CLASSIFICATION_METRICS[name](np.asarray(y_true, dtype=str), proba, np.asarray(classes))
