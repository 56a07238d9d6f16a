"""Folds are data, made once: seeded, group-aware, target-stratified, written to a file whose hash travels with
every run's output."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from catalog_ml.atomic import write_frame_atomic, write_json_atomic
from catalog_ml.data.grouping import near_duplicate_groups
from catalog_ml.data.loading import Dataset
from catalog_ml.data.spec import DatasetSpec
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

FULL_FIT_FOLD = -1


@dataclass(frozen=True)
class Folds:
    """Fold of every training id (aligned to the train frame's row order) and the fold file's hash."""

    fold: np.ndarray
    group: np.ndarray
    n_folds: int
    hash: str
    path: Path

    def train_mask(self, k: int) -> np.ndarray:
        return np.ones_like(self.fold, dtype=bool) if k == FULL_FIT_FOLD else self.fold != k

    def valid_mask(self, k: int) -> np.ndarray:
        return np.zeros_like(self.fold, dtype=bool) if k == FULL_FIT_FOLD else self.fold == k


def stratification_labels(target: pd.Series, spec: DatasetSpec, n_bins: int) -> np.ndarray:
    """Log-price quantile bins for regression, the class label for classification."""
    if spec.task == "classification":
        return pd.factorize(target.astype(str))[0]
    log_target = np.log1p(target.to_numpy(dtype=float))
    edges = np.unique(np.quantile(log_target, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, log_target, side="right")


def make_folds(dataset: Dataset, n_folds: int = 5, seed: int = 42, n_bins: int = 10,
               use_images: bool = True) -> pd.DataFrame:
    """Assign every training row to a fold: no near-duplicate group crosses folds; log-price bins are balanced."""
    spec, train = dataset.spec, dataset.train
    if n_folds < 2:
        raise CatalogError(f"--n-folds must be at least 2, got {n_folds}")
    groups = near_duplicate_groups(train, spec, use_images=use_images)
    n_groups = int(groups.max()) + 1
    if n_groups < n_folds:
        raise CatalogError(f"{spec.train_path}: only {n_groups} near-duplicate groups, fewer than {n_folds} folds")
    labels = stratification_labels(dataset.target, spec, n_bins)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold = np.full(len(train), -1, dtype=int)
    for k, (_, valid_index) in enumerate(splitter.split(np.zeros(len(train)), labels, groups)):
        fold[valid_index] = k
    log.info("folds: %d rows, %d groups (%d rows in multi-row groups), %d folds", len(train), n_groups,
             int((np.bincount(groups)[groups] > 1).sum()), n_folds)
    return pd.DataFrame({"id": train[spec.id_column].to_numpy(), "fold": fold, "group": groups})


def fold_hash(ids: np.ndarray, folds: np.ndarray) -> str:
    """SHA-256 of the (id, fold) pairs sorted by id: the same assignment always has the same hash."""
    order = np.argsort(np.asarray(ids, dtype=str), kind="stable")
    digest = hashlib.sha256()
    for i in order:
        digest.update(f"{ids[i]}\t{int(folds[i])}\n".encode())
    return digest.hexdigest()[:16]


def write_folds(table: pd.DataFrame, path: Path, metadata: dict) -> str:
    """Write the fold table and its metadata sidecar (``<name>.json``) atomically; returns the fold hash."""
    digest = fold_hash(table["id"].to_numpy(), table["fold"].to_numpy())
    write_frame_atomic(path, table)
    write_json_atomic(metadata_path(path), {**metadata, "hash": digest, "rows": len(table),
                                            "n_folds": int(table["fold"].max()) + 1})
    return digest


def metadata_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def load_folds(dataset: Dataset, path: Path | None = None) -> Folds:
    """Read a fold file and check it was made for this dataset's training rows."""
    spec, train = dataset.spec, dataset.train
    path = Path(path or spec.folds_path)
    if not path.is_file():
        raise CatalogError(f"{path}: fold file not found (make it once with: catalog-ml folds --dataset ...)")
    try:
        table = pd.read_csv(path, dtype={"id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
        raise CatalogError(f"{path}: not a readable fold file ({str(error).splitlines()[0]})") from None
    missing = [c for c in ("id", "fold") if c not in table.columns]
    if missing:
        raise CatalogError(f"{path}: fold file lacks column(s) {', '.join(missing)}")
    if table["id"].duplicated().any():
        raise CatalogError(f"{path}: fold file lists id {table['id'][table['id'].duplicated()].iloc[0]!r} twice")
    fold_values = pd.to_numeric(table["fold"], errors="coerce")
    if fold_values.isna().any() or (fold_values < 0).any() or (fold_values % 1 != 0).any():
        raise CatalogError(f"{path}: column 'fold' must hold integers >= 0")
    by_id = pd.Series(fold_values.astype(int).to_numpy(), index=table["id"].to_numpy())
    train_ids = train[spec.id_column].to_numpy()
    absent = ~pd.Index(train_ids).isin(by_id.index)
    extra = ~by_id.index.isin(train_ids)
    if absent.any() or extra.any():
        detail = []
        if absent.any():
            detail.append(f"{int(absent.sum())} training ids are not in it (first: {train_ids[absent][0]!r})")
        if extra.any():
            detail.append(f"it lists {int(extra.sum())} ids not in training (first: {by_id.index[extra][0]!r})")
        raise CatalogError(f"{path}: fold file was made for another dataset: {'; '.join(detail)}")
    fold = by_id.loc[train_ids].to_numpy()
    groups = (table.set_index("id").loc[train_ids, "group"].to_numpy() if "group" in table.columns
              else np.arange(len(train_ids)))
    n_folds = int(fold.max()) + 1
    empty = sorted(set(range(n_folds)) - set(fold.tolist()))
    if empty:
        raise CatalogError(f"{path}: fold(s) {empty} have no rows")
    return Folds(fold=fold, group=groups, n_folds=n_folds, hash=fold_hash(train_ids, fold), path=path)
