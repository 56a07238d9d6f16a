"""Which unlabelled rows to label next: uncertainty (disagreement between approaches and fold models for regression,
entropy or margin for classification), then a diversity step so one batch is not a pile of near-duplicates."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy import sparse

from catalog_ml.core.run_reader import read_fold_tests
from catalog_ml.data.loading import Dataset
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)


def disagreement(log_predictions: np.ndarray) -> np.ndarray:
    """Per row: the standard deviation of log prices over the members (approaches x fold models)."""
    if log_predictions.ndim != 2 or log_predictions.shape[1] < 2:
        raise CatalogError("disagreement needs at least two members (approaches or fold models) per row")
    return log_predictions.std(axis=1)


def classification_uncertainty(probabilities: np.ndarray, kind: str = "entropy") -> np.ndarray:
    """Entropy of the class probabilities, or 1 - (top-1 minus top-2 probability) for ``margin``."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-12, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    if kind == "entropy":
        return -(p * np.log(p)).sum(axis=1)
    if kind == "margin":
        top = np.sort(p, axis=1)[:, ::-1]
        return 1.0 - (top[:, 0] - (top[:, 1] if p.shape[1] > 1 else 0.0))
    raise CatalogError(f"uncertainty kind '{kind}': use entropy or margin")


def diverse_batch(scores: np.ndarray, vectors: np.ndarray | sparse.spmatrix, size: int,
                  candidate_factor: int = 5) -> np.ndarray:
    """Indices of ``size`` rows: greedy on score x (1 - highest cosine similarity to a row already chosen), among
    the ``candidate_factor * size`` most uncertain rows. ``vectors`` rows should be L2-normalised."""
    n = len(scores)
    if size > n:
        log.warning("asked for %d rows but the pool has %d: returning all of them, ranked", size, n)
        size = n
    if size <= 0:
        return np.zeros(0, dtype=int)
    candidates = np.argsort(-scores, kind="stable")[:min(n, candidate_factor * size)]
    matrix = vectors[candidates]
    base = np.maximum(scores[candidates], 0.0)
    closest = np.zeros(len(candidates))
    chosen: list[int] = []
    available = np.ones(len(candidates), dtype=bool)
    for _ in range(size):
        value = np.where(available, base * (1.0 - closest), -np.inf)
        pick = int(np.argmax(value))
        chosen.append(pick)
        available[pick] = False
        similarity = matrix @ matrix[pick].T
        similarity = np.asarray(similarity.todense() if sparse.issparse(similarity) else similarity).ravel()
        closest = np.maximum(closest, np.clip(similarity, 0.0, 1.0))
    return candidates[np.array(chosen)]


def member_test_predictions(dataset: Dataset, run_dirs: list[Path]) -> tuple[np.ndarray, list[str]]:
    """log1p test predictions of every fold model of every run (read through the checked run reader), aligned to
    the dataset's test rows: (n_test, members)."""
    columns, names = [], []
    for run_dir in run_dirs:
        for k, predictions in read_fold_tests(dataset, run_dir).items():
            columns.append(np.log1p(predictions))
            names.append(f"{Path(run_dir).name}/fold_{k}")
    if len(columns) < 2:
        raise CatalogError("ranking needs at least two fold models: run approaches with their folds first")
    return np.column_stack(columns), names
