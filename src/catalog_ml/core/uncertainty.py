"""How sure a CV score is: its standard error over the folds, a bootstrap interval over the rows, and for two sets
of predictions on the same rows (a blend and the best single approach) a paired bootstrap interval of the gain.

The fold standard error says how much the score moves between folds (fold difficulty); the row bootstrap says how
much it would move with other rows like these. A gain whose paired interval includes 0 is not established.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog_ml.core.metrics import LOWER_IS_BETTER, row_smape
from catalog_ml.core.task import Task

RESAMPLES = 1000
SLOW_RESAMPLES = 200  # metrics that are not a mean of per-row values are recomputed for each resample
_CHUNK_VALUES = 4_000_000  # resampled values held at once


@dataclass(frozen=True)
class ScoreUncertainty:
    """A score with its standard error over folds and a 95% bootstrap interval over rows."""

    metric: str
    score: float
    fold_se: float
    low: float
    high: float

    def describe(self) -> str:
        return (f"{self.metric} {self.score:.4f} ± {self.fold_se:.4f} (standard error over folds), 95% interval "
                f"over rows {self.low:.4f} to {self.high:.4f}")

    def to_dict(self) -> dict[str, float | str]:
        return {"metric": self.metric, "score": self.score, "fold_se": self.fold_se, "low": self.low,
                "high": self.high}


@dataclass(frozen=True)
class GainInterval:
    """How much better ``a`` scores than ``b`` on the same rows (positive: better), with a paired 95% interval."""

    metric: str
    gain: float
    low: float
    high: float

    def describe(self, a: str, b: str) -> str:
        verdict = "established" if self.low > 0 else "not established (the interval includes 0)"
        gain, low, high = (round(value, 4) + 0.0 for value in (self.gain, self.low, self.high))  # no "-0.0000"
        return f"{a} over {b}: {gain:+.4f} {self.metric}, paired 95% interval {low:+.4f} to {high:+.4f}: {verdict}"


def fold_standard_error(per_fold: list[float] | np.ndarray) -> float:
    """Standard deviation of the per-fold scores over the square root of their number (NaN for one fold)."""
    values = np.asarray(per_fold, dtype=float)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def score_uncertainty(task: Task, metric: str, y: np.ndarray, pred: np.ndarray, fold: np.ndarray,
                      seed: int = 0) -> ScoreUncertainty:
    """The score of ``pred`` with its fold standard error and row bootstrap interval."""
    per_fold = [task.score(y[fold == k], pred[fold == k], metric) for k in np.unique(fold)]
    low, high = np.percentile(_resampled(task, metric, y, pred, seed), [2.5, 97.5])
    return ScoreUncertainty(metric, task.score(y, pred, metric), fold_standard_error(per_fold), float(low),
                            float(high))


def gain_interval(task: Task, metric: str, y: np.ndarray, a: np.ndarray, b: np.ndarray, seed: int = 0
                  ) -> GainInterval:
    """The gain of ``a`` over ``b`` (in ``metric`` units, positive = ``a`` better) with a paired bootstrap: both are
    scored on the same resampled rows, so what the two share (hard rows) cancels out."""
    sign = 1.0 if LOWER_IS_BETTER[metric] else -1.0
    if metric == "smape":
        differences = row_smape(y, b) - row_smape(y, a)
        resampled = _resampled_means(differences, seed)
        gain = float(differences.mean())
    else:
        rng = np.random.default_rng(seed)
        draws = [rng.integers(0, len(y), len(y)) for _ in range(SLOW_RESAMPLES)]
        resampled = np.array([sign * (task.score(y[r], b[r], metric) - task.score(y[r], a[r], metric))
                              for r in draws])
        gain = sign * (task.score(y, b, metric) - task.score(y, a, metric))
    low, high = np.percentile(resampled, [2.5, 97.5])
    return GainInterval(metric, gain, float(low), float(high))


def _resampled(task: Task, metric: str, y: np.ndarray, pred: np.ndarray, seed: int) -> np.ndarray:
    if metric == "smape":
        return _resampled_means(row_smape(y, pred), seed)
    rng = np.random.default_rng(seed)
    return np.array([task.score(y[r], pred[r], metric)
                     for r in (rng.integers(0, len(y), len(y)) for _ in range(SLOW_RESAMPLES))])


def _resampled_means(values: np.ndarray, seed: int) -> np.ndarray:
    """Means of ``RESAMPLES`` bootstrap resamples of ``values``, drawn in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    n = len(values)
    per_chunk = max(1, _CHUNK_VALUES // max(n, 1))
    means = []
    for start in range(0, RESAMPLES, per_chunk):
        rows = rng.integers(0, n, size=(min(per_chunk, RESAMPLES - start), n), dtype=np.int64)
        means.append(values[rows].mean(axis=1))
    return np.concatenate(means)
