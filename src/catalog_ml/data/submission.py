"""Submission writing and validation, matching the challenge: header ``sample_id,price``, every test id exactly
once, positive finite floats, as many rows as test.csv. Classification submissions hold one known class label
per row instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.atomic import write_frame_atomic
from catalog_ml.data.loading import describe_rows
from catalog_ml.errors import CatalogError


def check_submission_frame(frame: pd.DataFrame, test_ids: np.ndarray, id_column: str, target: str,
                           source: str, classes: tuple[str, ...] | None = None) -> list[str]:
    """Every problem of a submission table, one line each; an empty list means it is valid. With ``classes``
    (classification) each value must be one of the classes; otherwise a positive finite number."""
    expected = [id_column, target]
    if list(frame.columns) != expected:
        return [f"{source}: header must be '{','.join(expected)}', found '{','.join(map(str, frame.columns))}'"]
    problems = []
    if len(frame) != len(test_ids):
        problems.append(f"{source}: {len(frame)} rows, but the test file has {len(test_ids)}")
    ids = frame[id_column].astype(str).str.strip()
    duplicated = ids.duplicated(keep="first")
    if duplicated.any():
        problems.append(f"{source}: column '{id_column}' repeats ids at "
                        f"{describe_rows(duplicated, ids[duplicated].head(5).tolist())}")
    test_set = pd.Index(np.asarray(test_ids, dtype=str))
    unknown = ~ids.isin(test_set)
    if unknown.any():
        problems.append(f"{source}: column '{id_column}' has ids not in the test file at "
                        f"{describe_rows(unknown, ids[unknown].head(5).tolist())}")
    missing = ~test_set.isin(ids)
    if missing.any():
        shown = ", ".join(repr(i) for i in test_set[missing][:5])
        problems.append(f"{source}: {int(missing.sum())} test ids have no prediction (first: {shown})")
    raw = frame[target]
    if classes is not None:
        return problems + _label_problems(raw, classes, target, source)
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.astype(str).str.strip().str.lower()
    nan_like = raw.isna() | text.isin(["", "nan", "inf", "-inf", "+inf", "infinity", "-infinity"])
    non_numeric = values.isna() & ~nan_like
    if non_numeric.any():
        problems.append(f"{source}: column '{target}' has non-numeric values at "
                        f"{describe_rows(non_numeric, raw[non_numeric].head(5).tolist())}")
    not_finite = ~non_numeric & ~np.isfinite(values.fillna(np.nan).to_numpy(dtype=float))
    if not_finite.any():
        problems.append(f"{source}: column '{target}' has empty, NaN or infinite values at "
                        f"{describe_rows(not_finite)}")
    non_positive = values.notna() & np.isfinite(values.to_numpy(dtype=float)) & (values <= 0)
    if non_positive.any():
        problems.append(f"{source}: column '{target}' has non-positive values at "
                        f"{describe_rows(non_positive, values[non_positive].head(5).tolist())}")
    return problems


def _label_problems(raw: pd.Series, classes: tuple[str, ...], target: str, source: str) -> list[str]:
    unknown = ~raw.astype(str).isin(classes) | raw.isna()
    if not unknown.any():
        return []
    return [f"{source}: column '{target}' has values that are not classes of the training table at "
            f"{describe_rows(unknown, raw[unknown].head(5).tolist())}"]


def validate_submission_file(path: Path, test_ids: np.ndarray, id_column: str, target: str,
                             classes: tuple[str, ...] | None = None) -> list[str]:
    """Read a submission CSV and return its problems (an empty list means valid)."""
    path = Path(path)
    if not path.is_file():
        return [f"{path}: file not found"]
    if path.stat().st_size == 0:
        return [f"{path}: file is empty"]
    if b"\x00" in path.read_bytes()[:8192]:
        return [f"{path}: binary content, not a CSV file"]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        return [f"{path}: cannot be read as CSV ({str(error).splitlines()[0]})"]
    frame[frame.columns] = frame[frame.columns].replace("", np.nan)
    return check_submission_frame(frame, test_ids, id_column, target, str(path), classes)


def write_submission(ids: np.ndarray, predictions: np.ndarray, path: Path, test_ids: np.ndarray,
                     id_column: str = "sample_id", target: str = "price",
                     classes: tuple[str, ...] | None = None) -> Path:
    """Validate and write a submission atomically, rows in test-file order; raises CatalogError if invalid.
    ``classes`` (classification): ``predictions`` are labels, each one of these classes."""
    values = np.asarray(predictions, dtype=str if classes is not None else float)
    frame = pd.DataFrame({id_column: np.asarray(ids, dtype=str), target: values})
    problems = check_submission_frame(frame, test_ids, id_column, target, str(path), classes)
    if problems:
        raise CatalogError(*problems)
    order = pd.Series(np.arange(len(test_ids)), index=np.asarray(test_ids, dtype=str))
    frame = frame.iloc[np.argsort(order.loc[frame[id_column]].to_numpy())].reset_index(drop=True)
    return write_frame_atomic(Path(path), frame)
