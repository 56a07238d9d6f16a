"""Blenders: scikit-learn-style estimators over a matrix of OOF predictions (rows x approaches).

``fit(P, y)`` learns attributes ending in ``_``; ``predict(P)`` returns positive prices. Weighted blenders end with a
SMAPE-optimal global scale factor (SMAPE rewards slight under-prediction) found on the rows they were fitted on.
Ties are broken deterministically (the earliest candidate wins) and every random search has a fixed random_state.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from catalog_ml.core.metrics import smape, smape_columns
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

SCALE_GRID = np.round(np.arange(0.85, 1.1501, 0.005), 4)


def best_scale(blended: np.ndarray, y: np.ndarray, grid: np.ndarray = SCALE_GRID) -> float:
    """The factor from ``grid`` that minimises SMAPE of ``factor * blended`` (ties: the one closest to 1)."""
    scores = np.array([smape(y, factor * blended) for factor in grid])
    candidates = np.flatnonzero(scores <= scores.min() + 1e-12)
    return float(grid[candidates[np.argmin(np.abs(grid[candidates] - 1.0))]])


class Blender:
    """Base class: weights over columns, then an optional scale factor."""

    name = "blender"

    def __init__(self, scale: bool = True, random_state: int = 0) -> None:
        self.scale = scale
        self.random_state = random_state

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def fit(self, predictions: np.ndarray, y: np.ndarray) -> Blender:
        predictions = _check_matrix(predictions)
        self.weights_ = self._fit_weights(predictions, np.asarray(y, dtype=float))
        self.scale_ = best_scale(self._combine(predictions), y) if self.scale else 1.0
        return self

    def predict(self, predictions: np.ndarray) -> np.ndarray:
        return self.scale_ * self._combine(_check_matrix(predictions))

    def _combine(self, predictions: np.ndarray) -> np.ndarray:
        return predictions @ self.weights_

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class MeanBlender(Blender):
    """Equal weights; arithmetic, geometric or harmonic mean."""

    name = "mean"

    def __init__(self, kind: str = "arithmetic", scale: bool = True, random_state: int = 0) -> None:
        super().__init__(scale, random_state)
        if kind not in ("arithmetic", "geometric", "harmonic"):
            raise ValueError(f"unknown mean kind {kind!r}")
        self.kind = kind

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.full(predictions.shape[1], 1.0 / predictions.shape[1])

    def _combine(self, predictions: np.ndarray) -> np.ndarray:
        if self.kind == "geometric":
            return np.exp(np.log(predictions) @ self.weights_)
        if self.kind == "harmonic":
            return 1.0 / ((1.0 / predictions) @ self.weights_)
        return predictions @ self.weights_


class BestMeanBlender(Blender):
    """Chooses among the arithmetic, geometric and harmonic means by SMAPE on the fitting rows."""

    name = "mean"

    def fit(self, predictions: np.ndarray, y: np.ndarray) -> BestMeanBlender:
        candidates = [MeanBlender(kind, self.scale).fit(predictions, y) for kind in
                      ("arithmetic", "geometric", "harmonic")]
        scores = [smape(y, c.predict(predictions)) for c in candidates]
        self.chosen_ = candidates[int(np.argmin(scores))]
        self.kind_ = self.chosen_.kind
        self.weights_ = self.chosen_.weights_
        self.scale_ = self.chosen_.scale_
        return self

    def predict(self, predictions: np.ndarray) -> np.ndarray:
        return self.chosen_.predict(predictions)


class GridBlender(Blender):
    """Exhaustive search of simplex weights: a coarse grid, then a fine grid around the best coarse point."""

    name = "grid"
    max_models = 4

    def __init__(self, coarse_step: float = 0.1, fine_step: float = 0.02, scale: bool = True,
                 random_state: int = 0) -> None:
        super().__init__(scale, random_state)
        self.coarse_step = coarse_step
        self.fine_step = fine_step

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = predictions.shape[1]
        if m > self.max_models:
            raise CatalogError(f"grid search is for at most {self.max_models} approaches ({m} given); use optuna "
                               "or hill")
        best = _best_on_grid(predictions, y, _simplex_grid(m, self.coarse_step))
        fine = _simplex_grid(m, self.fine_step)
        near = fine[np.abs(fine - best).max(axis=1) <= self.coarse_step + 1e-9]
        return _best_on_grid(predictions, y, near)


def _simplex_grid(m: int, step: float) -> np.ndarray:
    n = int(round(1 / step))
    points = [c for c in itertools.product(range(n + 1), repeat=m - 1) if sum(c) <= n]
    return np.array([[*c, n - sum(c)] for c in points], dtype=float) / n


def _best_on_grid(predictions: np.ndarray, y: np.ndarray, grid: np.ndarray, chunk: int = 64) -> np.ndarray:
    scores = np.concatenate([smape_columns(y, predictions @ grid[i:i + chunk].T)
                             for i in range(0, len(grid), chunk)])
    return grid[int(np.argmin(scores))]


class OptunaBlender(Blender):
    """Optuna (TPE, seeded) search over simplex weights minimising SMAPE.

    ``storage`` (an Optuna storage URL such as ``sqlite:///blend.db``) lets several processes share one study.
    """

    name = "optuna"

    def __init__(self, n_trials: int = 300, storage: str | None = None, study_name: str | None = None,
                 scale: bool = True, random_state: int = 0) -> None:
        super().__init__(scale, random_state)
        self.n_trials = n_trials
        self.storage = storage
        self.study_name = study_name

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        weights, self.best_value_ = optuna_simplex_weights(
            lambda w: smape(y, predictions @ w), predictions.shape[1], self.n_trials, self.random_state,
            self.storage, self.study_name)
        return weights


def optuna_simplex_weights(loss: Callable[[np.ndarray], float], n_models: int, n_trials: int, random_state: int,
                           storage: str | None = None, study_name: str | None = None) -> tuple[np.ndarray, float]:
    """Seeded Optuna TPE search for the weights (non-negative, summing to 1) minimising ``loss(weights)``; the
    equal-weight mean is always the first trial. Returns the best weights and their loss."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def weights_of(params: dict) -> np.ndarray:
        raw = np.array([params[f"w{i}"] for i in range(n_models)])
        return raw / raw.sum() if raw.sum() > 0 else np.full(n_models, 1.0 / n_models)

    def objective(trial: optuna.Trial) -> float:
        return loss(weights_of({f"w{i}": trial.suggest_float(f"w{i}", 0.0, 1.0) for i in range(n_models)}))

    study = optuna.create_study(direction="minimize", storage=storage, study_name=study_name,
                                load_if_exists=storage is not None,
                                sampler=optuna.samplers.TPESampler(seed=random_state))
    study.enqueue_trial({f"w{i}": 1.0 for i in range(n_models)})
    study.optimize(objective, n_trials=n_trials, show_progress_bar=False)
    return weights_of(study.best_params), study.best_value


class HillClimbBlender(Blender):
    """Caruana-style greedy forward selection with replacement, starting from the best single approach.

    Every step adds the approach that helps most (even when nothing helps, to escape plateaus); the best ensemble
    seen over ``max_iter`` steps is kept.
    """

    name = "hill"

    def __init__(self, max_iter: int = 100, scale: bool = True, random_state: int = 0) -> None:
        super().__init__(scale, random_state)
        self.max_iter = max_iter

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = predictions.shape[1]
        counts = np.zeros(m)
        single = smape_columns(y, predictions)
        counts[int(np.argmin(single))] = 1
        total = predictions[:, int(np.argmin(single))].copy()
        best_score, best_counts = float(single.min()), counts.copy()
        for _ in range(self.max_iter):
            candidates = (total[:, None] + predictions) / (counts.sum() + 1)
            scores = smape_columns(y, candidates)
            pick = int(np.argmin(scores))
            counts[pick] += 1
            total += predictions[:, pick]
            if scores[pick] < best_score - 1e-9:
                best_score, best_counts = float(scores[pick]), counts.copy()
        self.counts_ = best_counts
        return best_counts / best_counts.sum()


class StackBlender(Blender):
    """A level-2 model on log predictions: ridge (default) or a small gradient-boosting model."""

    name = "stack"

    def __init__(self, model: str = "ridge", alpha: float = 1.0, scale: bool = True, random_state: int = 0) -> None:
        super().__init__(scale, random_state)
        if model not in ("ridge", "gbm"):
            raise ValueError(f"unknown stacking model {model!r}")
        self.model = model
        self.alpha = alpha

    def _fit_weights(self, predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.model == "ridge":
            self.level2_ = Ridge(alpha=self.alpha).fit(np.log1p(predictions), np.log1p(y))
            coef = self.level2_.coef_
            return coef / coef.sum() if abs(coef.sum()) > 1e-12 else np.full(len(coef), 1.0 / len(coef))
        self.level2_ = HistGradientBoostingRegressor(loss="absolute_error", max_iter=200, learning_rate=0.05,
                                                     max_leaf_nodes=15, random_state=self.random_state)
        self.level2_.fit(np.log1p(predictions), np.log1p(y))
        return np.full(predictions.shape[1], np.nan)

    def _combine(self, predictions: np.ndarray) -> np.ndarray:
        log_price = self.level2_.predict(np.log1p(predictions))
        return np.expm1(np.clip(log_price, np.log1p(1e-3), 25.0))


def _check_matrix(predictions: np.ndarray) -> np.ndarray:
    predictions = np.asarray(predictions, dtype=float)
    if predictions.ndim != 2 or predictions.shape[1] == 0:
        raise ValueError(f"expected a (rows, approaches) matrix, got shape {predictions.shape}")
    return predictions


METHODS = {
    "mean": lambda o: BestMeanBlender(scale=o["scale"], random_state=o["random_state"]),
    "grid": lambda o: GridBlender(scale=o["scale"], random_state=o["random_state"]),
    "optuna": lambda o: OptunaBlender(n_trials=o["n_trials"], storage=o["storage"], study_name=o["study_name"],
                                      scale=o["scale"], random_state=o["random_state"]),
    "hill": lambda o: HillClimbBlender(scale=o["scale"], random_state=o["random_state"]),
    "stack": lambda o: StackBlender(model=o["stack_model"], scale=o["scale"], random_state=o["random_state"]),
}
DEFAULT_OPTIONS = {"scale": True, "random_state": 0, "n_trials": 300, "storage": None, "study_name": None,
                   "stack_model": "ridge"}


def make_blender(method: str, **options: object) -> Blender:
    """A fresh blender for ``method`` (one of METHODS)."""
    if method not in METHODS:
        raise CatalogError(f"unknown blend method '{method}' (use auto or one of {', '.join(METHODS)})")
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"unknown blender options {sorted(unknown)}")
    return METHODS[method]({**DEFAULT_OPTIONS, **options})
