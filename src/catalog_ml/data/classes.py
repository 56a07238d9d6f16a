"""Class labels for ``task: classification``: normalisation on load, the dataset's class list, probability columns.

Every approach returns one probability column per class of the whole training table (in ``classes`` order), even
when a fold's training part lacks a class: that column is 0 there. Output files name the columns ``proba:<class>``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

PROBA_PREFIX = "proba:"
MANY_CLASSES = 1000


def normalise_labels(labels: pd.Series, source: str) -> pd.Series:
    """Strip spaces and merge labels that differ only in case (each merged group takes its most frequent
    spelling); what changed is logged."""
    text = labels.astype(str)
    stripped = text.str.strip().str.replace(r"\s+", " ", regex=True)
    respaced = int((stripped != text).sum())
    folded = stripped.str.casefold()
    spelling = stripped.groupby(folded).agg(lambda s: s.value_counts().index[0])
    normalised = folded.map(spelling)
    merged = int((normalised != stripped).sum())
    if respaced:
        log.warning("%s: %d labels had leading, trailing or repeated spaces (removed)", source, respaced)
    if merged:
        variants = stripped[normalised != stripped].unique()[:5]
        log.warning("%s: %d labels differed only in case from a more frequent spelling and were merged (e.g. %s)",
                    source, merged, ", ".join(repr(v) for v in variants))
    return normalised


def class_list(labels: pd.Series, source: str) -> tuple[str, ...]:
    """Sorted distinct labels; classes with a single row and very many classes are reported."""
    counts = labels.value_counts()
    if len(counts) < 2:
        raise CatalogError(f"{source}: classification needs at least 2 classes, found {len(counts)}")
    singles = counts.index[counts == 1]
    if len(singles):
        log.warning("%s: classes with a single row: %d (e.g. %s); such a row is scored in its fold but never "
                    "learned there", source, len(singles), ", ".join(repr(c) for c in singles[:5]))
    if len(counts) > MANY_CLASSES:
        rows = len(labels)
        log.warning("%s: %d classes; one probability matrix takes %.0f MB per %d rows (float64)", source,
                    len(counts), rows * len(counts) * 8 / 2**20, rows)
    return tuple(sorted(counts.index.astype(str)))


def proba_columns(classes: tuple[str, ...]) -> list[str]:
    return [f"{PROBA_PREFIX}{c}" for c in classes]


def class_codes(labels: np.ndarray | pd.Series, classes: tuple[str, ...]) -> np.ndarray:
    """Integer codes of ``labels`` in ``classes``; -1 for a label not in the list."""
    return pd.Index(classes).get_indexer(pd.Series(labels).astype(str))


def spread_proba(proba: np.ndarray, fitted_codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities over the classes a model saw (columns in ``fitted_codes`` order) as a full (n, n_classes)
    matrix: classes absent from that model's training rows get probability 0."""
    full = np.zeros((proba.shape[0], n_classes), dtype=float)
    full[:, np.asarray(fitted_codes, dtype=int)] = proba
    return full


def checked_proba(proba: np.ndarray, n_rows: int, n_classes: int, what: str) -> np.ndarray:
    """A (n_rows, n_classes) matrix of finite non-negative values, rows renormalised to sum to 1."""
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (n_rows, n_classes):
        raise CatalogError(f"{what}: expected probabilities of shape ({n_rows}, {n_classes}), got {proba.shape}")
    bad = ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1) | (proba.sum(axis=1) <= 0)
    if bad.any():
        raise CatalogError(f"{what}: {int(bad.sum())} rows of probabilities are NaN, negative or all zero")
    return proba / proba.sum(axis=1, keepdims=True)


def predicted_labels(proba: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """The arg-max class of each row (ties: the first class in ``classes`` order)."""
    return np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]


def proba_frame(ids: np.ndarray, proba: np.ndarray, classes: tuple[str, ...], fold: int | None = None
                ) -> pd.DataFrame:
    """``id[, fold], pred`` (the arg-max label) and one ``proba:<class>`` column per class."""
    head = {"id": ids} | ({"fold": fold} if fold is not None else {}) | {"pred": predicted_labels(proba, classes)}
    return pd.concat([pd.DataFrame(head), pd.DataFrame(proba, columns=proba_columns(classes))], axis=1)


def read_proba(frame: pd.DataFrame, classes: tuple[str, ...], source: str) -> np.ndarray:
    """The probability matrix of an output table, in ``classes`` order; a clear error when columns differ."""
    wanted = proba_columns(classes)
    found = [c for c in frame.columns if str(c).startswith(PROBA_PREFIX)]
    if set(found) != set(wanted):
        missing = sorted(set(wanted) - set(found))[:3]
        extra = sorted(set(found) - set(wanted))[:3]
        raise CatalogError(f"{source}: class columns differ from the dataset's classes (missing {missing}, "
                           f"unknown {extra})")
    return frame[wanted].to_numpy(dtype=float)
