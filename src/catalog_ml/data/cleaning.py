"""Training-row cleaning: exact duplicates, outliers, same-image groups with conflicting prices.

Every rule is optional and reported (rows before and after, rows changed). Cleaning applies to training rows only,
never to test rows; either make the folds after cleaning (``data_cleaning/clean.py`` writes a cleaned dataset with
its own fold file) or clean inside each fold's training part (``clean_training_rows`` on that part).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from catalog_ml.data.grouping import file_digest
from catalog_ml.data.images import image_file_names
from catalog_ml.data.spec import DatasetSpec

OUTLIER_POLICIES = ("none", "log_iqr")


@dataclass(frozen=True)
class CleaningRules:
    """Which rules run. Defaults: duplicates and image-price conflicts on, outliers off."""

    exact_duplicates: bool = True
    image_price_conflicts: bool = True
    outliers: str = "none"
    outlier_k: float = 3.0

    def __post_init__(self) -> None:
        if self.outliers not in OUTLIER_POLICIES:
            raise ValueError(f"outliers must be one of {OUTLIER_POLICIES}, got {self.outliers!r}")


@dataclass(frozen=True)
class RuleReport:
    """What one rule did."""

    rule: str
    rows_before: int
    rows_after: int
    rows_changed: int
    detail: str


def image_keys(frame: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """Identity of each row's image: the file's SHA-1 when it is on disk, else the file name from the link."""
    names = image_file_names(frame, spec)
    folder = spec.image_path
    keys = []
    for name in names:
        digest = file_digest(folder / name) if folder is not None and name else None
        keys.append(digest or name)
    return pd.Series(keys, index=frame.index, dtype=object)


def clean_training_rows(train: pd.DataFrame, spec: DatasetSpec, rules: CleaningRules,
                        keys: pd.Series | None = None) -> tuple[pd.DataFrame, list[RuleReport]]:
    """Apply the rules in order (duplicates, outliers, then image conflicts, so that an outlier never sets a group's
    price); returns the cleaned rows and a report."""
    if spec.task != "regression":
        raise ValueError("cleaning rules are defined for price regression")
    frame = train.copy()
    reports = []
    if rules.exact_duplicates:
        frame, report = _drop_exact_duplicates(frame, spec)
        reports.append(report)
    if rules.outliers == "log_iqr":
        frame, report = _drop_log_iqr_outliers(frame, spec, rules.outlier_k)
        reports.append(report)
    if rules.image_price_conflicts and spec.image_column:
        row_keys = (keys if keys is not None else image_keys(train, spec)).loc[frame.index]
        frame, report = _resolve_image_conflicts(frame, spec, row_keys)
        reports.append(report)
    return frame, reports


def _drop_exact_duplicates(frame: pd.DataFrame, spec: DatasetSpec) -> tuple[pd.DataFrame, RuleReport]:
    columns = [c for c in (*spec.feature_columns, spec.target) if c in frame.columns]
    duplicated = frame.duplicated(subset=columns, keep="first")
    kept = frame.loc[~duplicated]
    return kept, RuleReport("exact_duplicates", len(frame), len(kept), int(duplicated.sum()),
                            "rows identical in every input column and the price; the first is kept")


def resolved_price(prices: np.ndarray) -> float:
    """The 1st-place rule: the modal price when it covers at least half the group, else the mean."""
    values, counts = np.unique(prices, return_counts=True)
    top = int(np.argmax(counts))
    return float(values[top]) if 2 * counts[top] >= len(prices) else float(np.mean(prices))


def _resolve_image_conflicts(frame: pd.DataFrame, spec: DatasetSpec,
                             keys: pd.Series) -> tuple[pd.DataFrame, RuleReport]:
    frame = frame.copy()
    target = frame[spec.target].to_numpy(dtype=float, copy=True)
    changed = 0
    groups = 0
    valid = keys.notna().to_numpy()
    for _, positions in pd.Series(np.arange(len(frame))[valid]).groupby(keys[valid].to_numpy()):
        rows = positions.to_numpy()
        if len(rows) < 2 or np.unique(target[rows]).size < 2:
            continue
        groups += 1
        price = resolved_price(target[rows])
        changed += int((target[rows] != price).sum())
        target[rows] = price
    frame[spec.target] = target
    return frame, RuleReport("image_price_conflicts", len(frame), len(frame), changed,
                             f"{groups} same-image groups with conflicting prices set to the modal price "
                             "(when it covers half the group) or the mean")


def _drop_log_iqr_outliers(frame: pd.DataFrame, spec: DatasetSpec, k: float) -> tuple[pd.DataFrame, RuleReport]:
    log_price = np.log1p(frame[spec.target].to_numpy(dtype=float))
    q1, q3 = np.quantile(log_price, [0.25, 0.75])
    low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    outside = (log_price < low) | (log_price > high)
    kept = frame.loc[~outside]
    return kept, RuleReport("outliers_log_iqr", len(frame), len(kept), int(outside.sum()),
                            f"log1p price outside [{low:.3f}, {high:.3f}] (k={k:g} IQR) dropped")


def report_table(reports: list[RuleReport]) -> pd.DataFrame:
    """The reports as a table."""
    return pd.DataFrame([vars(r) for r in reports], columns=["rule", "rows_before", "rows_after", "rows_changed",
                                                             "detail"])
