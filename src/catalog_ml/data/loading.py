"""Read and validate a dataset's train and test tables against its spec.

Every problem becomes one line naming the file, the column and the first offending data rows (1-based, header
excluded), and all problems of a dataset are reported together before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.data.classes import class_list, normalise_labels
from catalog_ml.data.spec import DatasetSpec
from catalog_ml.data.text_tables import DELIMITER_NAMES, read_delimited
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

_SHOWN_ROWS = 5
_CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # tab, newline and carriage return stay
ROW_NUMBER_ID = "@row"  # id_column value for tables without ids: the 1-based data row number becomes the id


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: ``train`` has the target, ``test`` (if the spec names one) has not."""

    spec: DatasetSpec
    train: pd.DataFrame
    test: pd.DataFrame | None
    dropped_low_target: int = 0
    classes: tuple[str, ...] = ()  # classification: the sorted class labels of the training table

    @property
    def target(self) -> pd.Series:
        return self.train[self.spec.target]


def load_dataset(spec: DatasetSpec, require_test: bool = False) -> Dataset:
    """Read the spec's train (and test) tables, validate both, and return them with string ids."""
    train = read_table(spec.train_path, spec)
    test = None
    if spec.test_path is not None and (require_test or spec.test_path.exists()):
        test = read_table(spec.test_path, spec)
    problems = check_columns(train, spec, spec.train_path, has_target=True)
    if test is not None:
        problems += check_columns(test, spec, spec.test_path, has_target=False)
    if problems:
        raise CatalogError(*problems)

    low_target = _low_target_rows(train, spec)
    problems = check_rows(train, spec, spec.train_path, has_target=True, skip_target_rows=low_target)
    if test is not None:
        problems += check_rows(test, spec, spec.test_path, has_target=False)
        problems += _check_shared_ids(train, test, spec)
    if problems:
        raise CatalogError(*problems)
    train = train.loc[~low_target].copy()
    if spec.task == "regression":
        train[spec.target] = pd.to_numeric(train[spec.target]).astype(float)
        classes: tuple[str, ...] = ()
    else:
        train[spec.target] = normalise_labels(train[spec.target], str(spec.train_path))
        classes = class_list(train[spec.target], str(spec.train_path))
        _report_unseen_test_classes(test, spec, classes)
    return Dataset(spec=spec, train=train.reset_index(drop=True), test=test, dropped_low_target=int(low_target.sum()),
                   classes=classes)


def _report_unseen_test_classes(test: pd.DataFrame | None, spec: DatasetSpec, classes: tuple[str, ...]) -> None:
    """A labelled test table may hold classes that training never saw: no model can predict them."""
    if test is None or spec.target not in test.columns:
        return
    labels = normalise_labels(test[spec.target].dropna(), str(spec.test_path))
    unseen = sorted(set(labels) - set(classes))
    if unseen:
        log.warning("%s: %d test rows have a class absent from training (%d such classes, e.g. %s): no model can "
                    "predict them",
                    spec.test_path, int(labels.isin(unseen).sum()), len(unseen),
                    ", ".join(repr(c) for c in unseen[:5]))


def read_table(path: Path, spec: DatasetSpec) -> pd.DataFrame:
    """Read one table (CSV/TSV, optionally compressed, Parquet or Excel) with the id column as text."""
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: file not found")
    if not path.is_file():
        raise CatalogError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise CatalogError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype={spec.id_column: str})
        else:
            frame = read_delimited(path, spec.separator, spec.encoding, {spec.id_column: str})
    except CatalogError:
        raise
    except pd.errors.EmptyDataError:
        raise CatalogError(f"{path}: file is empty (no header line)") from None
    except (pd.errors.ParserError, ValueError, OSError, ImportError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CatalogError(f"{path}: cannot be read as a table ({first_line})") from None
    return prepare_table(frame, spec, path)


def prepare_table(frame: pd.DataFrame, spec: DatasetSpec, source: Path | str) -> pd.DataFrame:
    """A table as read (from a file or given as a frame) made ready for checking: stripped column names, ids (the
    row numbers for ``@row``) as text, the spec's dropped columns gone and control characters removed (in place:
    pass a copy of a frame that must stay as it is)."""
    if frame.empty:
        raise CatalogError(f"{source}: has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    if spec.id_column == ROW_NUMBER_ID and ROW_NUMBER_ID not in frame.columns:
        frame.insert(0, ROW_NUMBER_ID, [str(i) for i in range(1, len(frame) + 1)])
    dropped = [c for c in spec.drop_columns if c in frame.columns]
    if dropped:
        frame = frame.drop(columns=dropped)
    if spec.id_column in frame.columns:
        frame[spec.id_column] = frame[spec.id_column].astype("string").str.strip().astype(object)
    _remove_control_characters(frame, spec, source)
    return frame


def _remove_control_characters(frame: pd.DataFrame, spec: DatasetSpec, path: Path | str) -> None:
    """NUL bytes and other control characters in text and categorical fields are removed, counted per column."""
    for column in dict.fromkeys([*spec.text_columns, *spec.categorical_columns]):
        if column not in frame.columns or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        text = frame[column].astype("string")
        dirty = text.str.contains(_CONTROL_CHARACTERS, regex=True, na=False).to_numpy()
        if dirty.any():
            frame[column] = frame[column].where(~dirty, text.str.replace(_CONTROL_CHARACTERS, "", regex=True))
            log.warning("%s: column '%s': control characters or NUL bytes removed at %s", path, column,
                        describe_rows(dirty))


def check_columns(frame: pd.DataFrame, spec: DatasetSpec, path: Path, has_target: bool) -> list[str]:
    """Problems with the table's header: required columns missing (with a delimiter hint when it looks wrong)."""
    required = [spec.id_column, *spec.feature_columns, *(c for c in spec.group_columns if not c.startswith("@"))]
    if has_target:
        required.insert(1, spec.target)
    missing = [c for c in dict.fromkeys(required) if c not in frame.columns]
    if not missing:
        return []
    found = ", ".join(map(str, frame.columns[:8])) + (" ..." if len(frame.columns) > 8 else "")
    hint = _delimiter_hint(frame, spec)
    return [f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} (found: {found}){hint}"]


def _delimiter_hint(frame: pd.DataFrame, spec: DatasetSpec) -> str:
    header = " ".join(map(str, frame.columns))
    separator = spec.separator or ","
    for delimiter, name in DELIMITER_NAMES.items():
        if delimiter != separator and delimiter in header and spec.id_column in header.split(delimiter):
            return f"; the header looks {name}-delimited: set separator: {delimiter!r} in the spec"
    return ""


def check_rows(frame: pd.DataFrame, spec: DatasetSpec, path: Path, has_target: bool,
               skip_target_rows: np.ndarray | None = None) -> list[str]:
    """Problems with ids, targets, numeric attributes and text, each naming the first offending rows.

    ``skip_target_rows`` marks rows whose target is not checked (they are dropped by ``drop_target_below``).
    """
    problems: list[str] = []
    ids = frame[spec.id_column]

    def report(mask: pd.Series | np.ndarray, column: str, what: str, show_values: bool = False) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            values = frame.loc[mask, column].head(_SHOWN_ROWS).tolist() if show_values else None
            problems.append(f"{path}: column '{column}' {what} at {describe_rows(mask, values)}")

    empty_id = ids.isna() | (ids.astype(str).str.len() == 0)
    report(empty_id, spec.id_column, "has empty ids")
    unsafe = ids.fillna("").astype(str).str.contains(r"[/\\]|\.\.|^\.$|[\x00-\x1f]", regex=True)
    report(unsafe, spec.id_column, "has ids with a path separator, '..' or control characters (ids become file "
           "names)", show_values=True)
    duplicated = ids.duplicated(keep=False) & ~empty_id
    report(duplicated, spec.id_column, "has duplicate ids", show_values=True)

    if has_target:
        problems += _check_target(frame, spec, path, skip_target_rows)
    for column in spec.numeric_columns:
        raw = frame[column]
        numeric = pd.to_numeric(raw, errors="coerce")
        report(numeric.isna() & raw.notna(), column, "has non-numeric values", show_values=True)
    if spec.text_columns and spec.allow_empty_text is not True:
        text_present = np.zeros(len(frame), dtype=bool)
        for column in spec.text_columns:
            text_present |= frame[column].fillna("").astype(str).str.strip().str.len().to_numpy() > 0
        columns = "/".join(spec.text_columns)
        if (~text_present).any() and spec.allow_empty_text is False:
            problems.append(f"{path}: column '{columns}' has empty text at {describe_rows(~text_present)} "
                            "(the spec says allow_empty_text: false)")
        elif (~text_present).any():
            log.warning("%s: %d rows have no text in %s (read as missing; allow_empty_text: false refuses them)",
                        path, int((~text_present).sum()), columns)
    return problems


def _check_target(frame: pd.DataFrame, spec: DatasetSpec, path: Path,
                  skip_rows: np.ndarray | None) -> list[str]:
    raw = frame[spec.target].copy()
    if skip_rows is not None and skip_rows.any():
        raw[skip_rows] = 1.0
    column = spec.target
    if spec.task == "classification":
        missing = raw.isna() | (raw.astype(str).str.strip().str.len() == 0)
        return [f"{path}: column '{column}' has missing labels at {describe_rows(missing)}"] if missing.any() else []
    problems = []
    numeric = pd.to_numeric(raw, errors="coerce")
    non_numeric = numeric.isna() & raw.notna()
    if non_numeric.any():
        values = raw[non_numeric].head(_SHOWN_ROWS).tolist()
        problems.append(f"{path}: column '{column}' has non-numeric values at {describe_rows(non_numeric, values)}")
    if raw.isna().any():
        problems.append(f"{path}: column '{column}' has missing (NaN) targets at {describe_rows(raw.isna())}")
    not_finite = numeric.notna() & ~np.isfinite(numeric.fillna(0))
    if not_finite.any():
        problems.append(f"{path}: column '{column}' has infinite targets at {describe_rows(not_finite)}")
    non_positive = numeric.notna() & (numeric <= 0)
    if non_positive.any() and spec.metric == "smape":
        values = numeric[non_positive].head(_SHOWN_ROWS).tolist()
        problems.append(
            f"{path}: column '{column}' has non-positive targets at {describe_rows(non_positive, values)} "
            "(prices must be > 0; set drop_target_below in the spec to drop them)"
        )
    return problems


def _low_target_rows(train: pd.DataFrame, spec: DatasetSpec) -> np.ndarray:
    """Rows the spec asks to drop: target below ``drop_target_below`` or (``drop_missing_target``) missing."""
    low = np.zeros(len(train), dtype=bool)
    if spec.drop_target_below is not None and spec.task == "regression":
        numeric = pd.to_numeric(train[spec.target], errors="coerce")
        low |= (numeric < spec.drop_target_below).to_numpy()
    if spec.drop_missing_target:
        low |= train[spec.target].isna().to_numpy()
    if low.any():
        log.warning("%s: dropping %d training rows with %s missing or below %s (spec)", spec.train_path,
                    int(low.sum()), spec.target, spec.drop_target_below)
    return low


def _check_shared_ids(train: pd.DataFrame, test: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    shared = pd.Index(test[spec.id_column]).isin(pd.Index(train[spec.id_column]))
    if not shared.any():
        return []
    examples = test.loc[shared, spec.id_column].head(_SHOWN_ROWS).tolist()
    return [f"{spec.test_path}: column '{spec.id_column}' has ids also in {spec.train_path.name} at "
            f"{describe_rows(shared, examples)}"]


def describe_rows(mask: pd.Series | np.ndarray, values: list | None = None) -> str:
    """'data rows 3, 9 (values 'x', 'y') and 4 more' for the first offending rows of a boolean mask."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(str(p + 1) for p in positions[:_SHOWN_ROWS])
    more = f" and {len(positions) - _SHOWN_ROWS} more" if len(positions) > _SHOWN_ROWS else ""
    label = "data row" if len(positions) == 1 else "data rows"
    value_text = f" (values {', '.join(repr(v) for v in values)})" if values else ""
    return f"{label} {shown}{more}{value_text}"
